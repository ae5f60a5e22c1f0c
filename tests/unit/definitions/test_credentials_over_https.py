"""A connection that sends credentials may use http:// only to a loopback host: anywhere else the
password, token or API key would cross the network in clear (docs/security.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventsync.definitions.loader import load_definitions

BASIC = "{kind: basic, username: u, password: '${env:EVENTSYNC_SECRET_PW}'}"
OAUTH = "{kind: oauth2_client_credentials, token_url: '%s', client_id: c, client_secret: '${env:EVENTSYNC_SECRET_CS}'}"


def _load(tmp_path: Path, base_url: str, auth: str) -> list[str]:
    f = tmp_path / "defs.yaml"
    f.write_text(f"connections:\n  - name: crm\n    base_url: '{base_url}'\n    auth: {auth}\n")
    result = load_definitions(f, check_secrets=False)
    return [f"{p.line}: {p}" for p in result.errors]


@pytest.mark.parametrize(
    ("base_url", "auth"),
    [
        ("http://crm.example.com", BASIC),
        ("http://10.0.0.7:8080", BASIC),
        ("https://crm.example.com", OAUTH % "http://login.example.com/token"),
    ],
)
def test_credentials_over_plain_http_to_another_host_are_refused_with_the_fix(
    tmp_path: Path, base_url: str, auth: str
) -> None:
    [problem] = _load(tmp_path, base_url, auth)
    assert problem.startswith("2: ") and "sends credentials: they go over https only" in problem and "write https://" in problem


@pytest.mark.parametrize(
    ("base_url", "auth"),
    [
        ("https://crm.example.com", BASIC),
        ("http://127.0.0.1:8711", BASIC),  # the sandbox
        ("http://localhost:8711", OAUTH % "http://localhost:8711/identity/oauth/token"),
        ("http://crm.internal", "{kind: none}"),  # nothing secret to carry
    ],
)
def test_https_loopback_or_no_credentials_are_accepted(tmp_path: Path, base_url: str, auth: str) -> None:
    assert _load(tmp_path, base_url, auth) == []
