"""Secret references are scoped (issue 13 item 1): a definition can name only secrets put there
for connections, never the process's own codec keys, Temporal credentials or the k8s token."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventsync.secrets import MissingSecretError, resolve_secret


def resolve(ref: str) -> str:
    return resolve_secret(ref, connection="evil", field="auth.token")


@pytest.mark.parametrize(
    "name",
    [
        "EVENTSYNC_CODEC_KEYS",
        "EVENTSYNC_CODEC_KEYS_FILE",
        "EVENTSYNC_CODEC_TOKEN",
        "TEMPORAL_API_KEY",
        # The event store's URL holds its database password (deploy/: compose, Helm).
        "EVENTSYNC_STORE",
        "EVENTSYNC_STORE_FILE",
    ],
)
def test_own_credentials_are_refused_even_when_allow_listed(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, "the-real-key")
    monkeypatch.setenv("EVENTSYNC_SECRET_ENV_ALLOW", f"*,{name}")
    with pytest.raises(MissingSecretError, match="own credentials") as err:
        resolve(f"${{env:{name}}}")
    assert "the-real-key" not in str(err.value)


def test_env_needs_the_prefix_or_the_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME_SECRET", "h")
    monkeypatch.setenv("EVENTSYNC_SECRET_CRM", "c")
    monkeypatch.setenv("EVENTSYNC_SECRET_ENV_ALLOW", "")
    with pytest.raises(MissingSecretError, match="not an allowed secret variable: name it EVENTSYNC_SECRET_"):
        resolve("${env:HOME_SECRET}")
    assert resolve("${env:EVENTSYNC_SECRET_CRM}") == "c"
    monkeypatch.setenv("EVENTSYNC_SECRET_ENV_ALLOW", "OTHER, HOME_SECRET")
    assert resolve("${env:HOME_SECRET}") == "h"
    monkeypatch.setenv("EVENTSYNC_SECRET_ENV_ALLOW", "HOME_*")
    assert resolve("${env:HOME_SECRET}") == "h"


def test_files_only_under_the_secrets_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "crm").write_text("pw\n")
    outside = tmp_path / "hostname"
    outside.write_text("outside-value")
    (secrets / "link").symlink_to(outside)
    monkeypatch.setenv("EVENTSYNC_SECRETS_DIR", str(secrets))
    assert resolve(f"${{file:{secrets}/crm}}") == "pw"
    for ref in (f"${{file:{outside}}}", f"${{file:{secrets}/../hostname}}", f"${{file:{secrets}/link}}"):
        with pytest.raises(MissingSecretError, match="outside the secrets directory") as err:
            resolve(ref)
        assert "outside-value" not in str(err.value)
    monkeypatch.delenv("EVENTSYNC_SECRETS_DIR")
    with pytest.raises(MissingSecretError, match="outside the secrets directory"):
        resolve("${file:/etc/hostname}")


def test_service_account_token_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = tmp_path / "kubernetes.io" / "serviceaccount" / "token"
    token.parent.mkdir(parents=True)
    token.write_text("sa-token")
    monkeypatch.setenv("EVENTSYNC_SECRETS_DIR", str(tmp_path))
    with pytest.raises(MissingSecretError, match="service-account token"):
        resolve(f"${{file:{token}}}")
