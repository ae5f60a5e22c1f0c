"""The HTTP core against a real local OAuth2/API server (tests/support/authserver.py)."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Iterator

import pytest

from eventsync.definitions.connections import Connection
from eventsync.http import AuthenticationError, ConnectionPool, PermanentHTTPError, RetryableHTTPError
from eventsync.http.tokens import TokenCache
from eventsync.secrets import MissingSecretError
from sandbox.serving import free_port, served
from tests.support import authserver
from tests.support.authserver import AuthState


@pytest.fixture
def server() -> Iterator[tuple[str, AuthState]]:
    state = AuthState()
    with served(authserver.create_app(state)) as s:
        yield s.url, state


@pytest.fixture(autouse=True)
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_CLIENT_SECRET", authserver.CLIENT_SECRET)
    monkeypatch.setenv("T_REFRESH", authserver.REFRESH_TOKEN)
    monkeypatch.setenv("T_PASSWORD", "pa:ss wörd")
    monkeypatch.setenv("T_KEY", "key-value-123")


def oauth_cc(url: str, **extra: object) -> Connection:
    return Connection.model_validate(
        {
            "name": "crm",
            "base_url": url,
            "auth": {
                "kind": "oauth2_client_credentials",
                "token_url": f"{url}/oauth/token",
                "client_id": authserver.CLIENT_ID,
                "client_secret": "${env:T_CLIENT_SECRET}",
                **extra,
            },
        }
    )


async def test_one_token_request_serves_many_concurrent_calls(server: tuple[str, AuthState]) -> None:
    url, state = server
    pool = ConnectionPool()
    client = pool.client(oauth_cc(url))
    responses = await asyncio.gather(*(client.request("GET", "/data") for _ in range(25)))
    assert all(r.json()["ok"] for r in responses)
    assert state.token_requests == 1
    assert state.data_calls == 25
    await pool.aclose()


async def test_token_refreshed_before_expiry(server: tuple[str, AuthState]) -> None:
    url, state = server
    offset = 0.0
    pool = ConnectionPool()
    pool.tokens = TokenCache(clock=lambda: time.time() + offset)
    client = pool.client(oauth_cc(url))
    first = (await client.request("GET", "/data")).json()["token"]
    assert (await client.request("GET", "/data")).json()["token"] == first
    offset = 3600 - 30  # inside the refresh margin: the next call must fetch a new token first
    second = (await client.request("GET", "/data")).json()["token"]
    assert second != first
    assert state.token_requests == 2
    assert state.data_calls == 3  # no call was wasted on a token the server would reject
    await pool.aclose()


async def test_reauth_exactly_once_on_401(server: tuple[str, AuthState]) -> None:
    url, state = server
    pool = ConnectionPool()
    client = pool.client(oauth_cc(url))
    await client.request("GET", "/data")
    await client.http.post(f"{url}/_expire")  # the server drops the token before its expiry
    assert (await client.request("GET", "/data")).json()["ok"]
    assert state.token_requests == 2
    assert state.data_calls == 3  # ok, 401, ok after re-auth
    # A route that always says 401: one fresh token, one retry, then a permanent error.
    state.data_calls = 0
    before = state.token_requests
    with pytest.raises(AuthenticationError) as info:
        await client.request("GET", "/status/401")
    assert state.token_requests == before + 1
    assert info.value.status == 401
    await pool.aclose()


async def test_refresh_token_grant(server: tuple[str, AuthState]) -> None:
    url, state = server
    conn = Connection.model_validate(
        {
            "name": "sf",
            "base_url": url,
            "auth": {
                "kind": "oauth2_refresh_token",
                "token_url": f"{url}/oauth/token",
                "client_id": authserver.CLIENT_ID,
                "client_secret": "${env:T_CLIENT_SECRET}",
                "refresh_token": "${env:T_REFRESH}",
            },
        }
    )
    pool = ConnectionPool()
    assert (await pool.client(conn).request("GET", "/data")).json()["ok"]
    assert state.token_requests == 1
    await pool.aclose()


async def test_marketo_style_query_token_request(server: tuple[str, AuthState]) -> None:
    url, state = server
    conn = oauth_cc(url, token_url=f"{url}/identity/oauth/token", token_request="query")
    pool = ConnectionPool()
    assert (await pool.client(conn).request("GET", "/data")).json()["ok"]
    assert state.token_requests == 1
    await pool.aclose()


async def test_bad_client_secret_is_a_plain_authentication_error(
    server: tuple[str, AuthState], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = server
    monkeypatch.setenv("T_CLIENT_SECRET", "wrong-secret-value")
    pool = ConnectionPool()
    with pytest.raises(AuthenticationError) as info:
        await pool.client(oauth_cc(url)).request("GET", "/data")
    assert "invalid_client" in str(info.value)
    assert "wrong-secret-value" not in str(info.value)
    await pool.aclose()


async def test_basic_site_user_header_bytes(server: tuple[str, AuthState]) -> None:
    url, _ = server
    conn = Connection.model_validate(
        {
            "name": "eloqua",
            "base_url": url,
            "auth": {
                "kind": "basic",
                "site": "AcmeCorp",
                "username": "jane.doe",
                "password": "${env:T_PASSWORD}",
            },
        }
    )
    pool = ConnectionPool()
    header = (await pool.client(conn).request("GET", "/echo")).json()["authorization"]
    assert header == "Basic " + base64.b64encode("AcmeCorp\\jane.doe:pa:ss wörd".encode()).decode()
    assert header == "Basic QWNtZUNvcnBcamFuZS5kb2U6cGE6c3Mgd8O2cmQ="
    await pool.aclose()


async def test_api_key_in_header_and_query(server: tuple[str, AuthState]) -> None:
    url, _ = server
    pool = ConnectionPool()
    header_conn = Connection.model_validate(
        {"name": "k1", "base_url": url, "auth": {"kind": "api_key", "key": "${env:T_KEY}"}}
    )
    assert (await pool.client(header_conn).request("GET", "/echo")).json()["x_api_key"] == "key-value-123"
    query_conn = Connection.model_validate(
        {
            "name": "k2",
            "base_url": url,
            "auth": {"kind": "api_key", "key": "${env:T_KEY}", "name": "api_key", "location": "query"},
        }
    )
    client = pool.client(query_conn)
    assert (await client.request("GET", "/echo")).json()["query"] == {"api_key": "key-value-123"}
    # The key travels in the query string, so error messages must not include it.
    with pytest.raises(PermanentHTTPError) as info:
        await client.request("GET", "/status/404")
    assert "key-value-123" not in str(info.value)
    assert "GET /status/404" in str(info.value)
    await pool.aclose()


async def test_error_classification(server: tuple[str, AuthState]) -> None:
    url, _ = server
    pool = ConnectionPool()
    client = pool.client(Connection.model_validate({"name": "plain", "base_url": url}))
    with pytest.raises(RetryableHTTPError) as info:
        await client.request("GET", "/status/429", params={"retry_after": "7"})
    assert info.value.retry_after == 7.0
    for code in (408, 500, 503):
        with pytest.raises(RetryableHTTPError):
            await client.request("GET", f"/status/{code}")
    for code in (400, 403, 404, 422):
        with pytest.raises(PermanentHTTPError):
            await client.request("GET", f"/status/{code}")
    dead = pool.client(
        Connection.model_validate({"name": "dead", "base_url": f"http://127.0.0.1:{free_port()}"})
    )
    with pytest.raises(RetryableHTTPError) as refused:
        await dead.request("GET", "/x")
    assert "connection 'dead'" in str(refused.value)
    await pool.aclose()


def test_missing_secret_names_connection_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("T_CLIENT_SECRET")
    with pytest.raises(MissingSecretError) as info:
        ConnectionPool().client(oauth_cc("http://127.0.0.1:1"))
    assert str(info.value) == (
        "connection 'crm': auth.client_secret refers to ${env:T_CLIENT_SECRET}, "
        "but the environment variable T_CLIENT_SECRET is not set"
    )


async def test_no_secret_in_logs(server: tuple[str, AuthState], caplog: pytest.LogCaptureFixture) -> None:
    url, _ = server
    caplog.set_level(logging.DEBUG)
    pool = ConnectionPool()
    client = pool.client(oauth_cc(url))
    await client.request("GET", "/data")
    with pytest.raises(PermanentHTTPError):
        await client.request("GET", "/status/400")
    assert authserver.CLIENT_SECRET not in caplog.text
    assert "tok-" not in caplog.text
    assert "Credentials" not in repr(client.auth) or authserver.CLIENT_SECRET not in repr(
        client.auth.__dict__
    )
    await pool.aclose()
