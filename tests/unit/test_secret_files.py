"""The *_FILE variants the Helm chart mounts each role's Secret through (deploy/helm: secrets as
files, never env): the event store's URL and the dashboard token read from a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.dashboard import TOKEN_ENV, TOKEN_FILE_ENV, token_from_env
from eventsync.settings import SettingError
from eventsync.store.sql import STORE_ENV, STORE_FILE_ENV, default_url


def test_store_url_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://eventsync:s3cret@eventstore:5432/eventsync"
    (tmp_path / "store-url").write_text(url + "\n")
    monkeypatch.delenv(STORE_ENV, raising=False)
    monkeypatch.setenv(STORE_FILE_ENV, str(tmp_path / "store-url"))
    assert default_url() == url


def test_store_url_file_errors_are_clear_and_never_quote_the_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STORE_FILE_ENV, str(tmp_path / "missing"))
    monkeypatch.delenv(STORE_ENV, raising=False)
    with pytest.raises(ValueError, match="cannot read"):
        default_url()
    (tmp_path / "empty").write_text("\n")
    monkeypatch.setenv(STORE_FILE_ENV, str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="is empty"):
        default_url()
    monkeypatch.setenv(STORE_ENV, "postgresql://u:pw@h/db")
    with pytest.raises(ValueError, match="not both") as err:
        default_url()
    assert "pw" not in str(err.value)


def test_dashboard_token_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.delenv(TOKEN_FILE_ENV, raising=False)
    assert token_from_env() is None
    monkeypatch.setenv(TOKEN_ENV, "from-env")
    assert token_from_env() == "from-env"
    (tmp_path / "dashboard-token").write_text("from-file\n")
    monkeypatch.setenv(TOKEN_FILE_ENV, str(tmp_path / "dashboard-token"))
    with pytest.raises(SettingError, match="not both"):  # as for the keys and the store: ambiguous
        token_from_env()
    monkeypatch.delenv(TOKEN_ENV)
    assert token_from_env() == "from-file"
    monkeypatch.setenv(TOKEN_FILE_ENV, str(tmp_path / "missing"))
    with pytest.raises(SettingError, match="cannot read"):
        token_from_env()
    (tmp_path / "empty").write_text("\n")
    monkeypatch.setenv(TOKEN_FILE_ENV, str(tmp_path / "empty"))
    with pytest.raises(SettingError, match="is empty"):  # a guarded dashboard never comes up open
        token_from_env()
