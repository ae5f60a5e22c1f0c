"""Issue 13 item 2 (SSRF with credentials), against real loopback listeners: a next URL in a
body, a Link header and a rendered lookup path that point at another server never receive the
connection's credential; the refusal is permanent and names the connection and the host."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest

from eventsync.definitions.connections import Connection
from eventsync.http import ConnectionPool
from eventsync.http.errors import PermanentHTTPError
from eventsync.http.origin import OriginPolicy, OriginRefusedError
from sandbox import webhook
from sandbox.serving import Served, served

SECRET = "source-bearer-token-xyz"


@pytest.fixture
def attacker() -> Iterator[tuple[Served, Any]]:
    app = webhook.create_app()
    with served(app) as s:
        yield s, app.state.sandbox


def source_app(next_url: str) -> Any:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    app = FastAPI()

    @app.get("/items")
    async def items() -> JSONResponse:
        return JSONResponse(
            {"items": [{"id": 1}], "next": next_url}, headers={"Link": f'<{next_url}>; rel="next"'}
        )

    return app


def bearer(url: str, **extra: Any) -> Connection:
    return Connection.model_validate(
        {
            "name": "src",
            "base_url": url,
            "auth": {"kind": "bearer", "token": "${env:EVENTSYNC_SECRET_SRC}"},
            **extra,
        }
    )


async def test_next_url_link_header_and_lookup_path_to_another_port_get_no_credential(
    attacker: tuple[Served, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    evil, recorded = attacker
    monkeypatch.setenv("EVENTSYNC_SECRET_SRC", SECRET)
    steal = f"{evil.url}/steal?page=2"
    with served(source_app(steal)) as source:
        pool = ConnectionPool()
        try:
            client = pool.client(bearer(source.url))
            page = await client.request("GET", "/items")
            candidates = [
                urljoin(str(page.request.url), page.json()["next"]),  # a body next URL
                urljoin(str(page.request.url), page.links["next"]["url"]),  # a Link header
                f"{evil.url}/contacts/1",  # a lookup path rendered from {{record.*}}
            ]
            for url in candidates:
                with pytest.raises(OriginRefusedError) as err:
                    await client.request("GET", url)
                assert isinstance(err.value, PermanentHTTPError) and not err.value.retryable
                assert err.value.connection == "src"
                assert f"connection 'src': refused to send a request to 127.0.0.1:{evil.port}" in str(
                    err.value
                )
                assert SECRET not in str(err.value)
        finally:
            await pool.aclose()
    assert recorded.requests == []  # the other port never heard a thing


async def test_allowed_hosts_opens_a_named_host(
    attacker: tuple[Served, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    other, recorded = attacker
    monkeypatch.setenv("EVENTSYNC_SECRET_SRC", SECRET)
    pool = ConnectionPool()
    try:
        client = pool.client(bearer("http://127.0.0.1:9", allowed_hosts=[f"127.0.0.1:{other.port}"]))
        resp = await client.request("GET", f"{other.url}/ok")
        assert resp.status_code == 200
    finally:
        await pool.aclose()
    assert recorded.requests[0]["headers"]["authorization"] == f"Bearer {SECRET}"


def test_no_downgrade_and_no_plain_http_elsewhere() -> None:
    import httpx

    policy = OriginPolicy.for_base("crm", "https://api.example.com", ("*.example.com",))
    policy.check(httpx.URL("https://api.example.com/x"))
    policy.check(httpx.URL("https://eu.example.com/x"))
    with pytest.raises(OriginRefusedError, match="downgrade https to http"):
        policy.check(httpx.URL("http://api.example.com/x"))
    with pytest.raises(
        OriginRefusedError, match="outside the connection's origin https://api.example.com:443"
    ):
        policy.check(httpx.URL("https://example.org/x"))
    with pytest.raises(OriginRefusedError):
        policy.check(httpx.URL("https://api.example.com:8443/x"))
    lax = OriginPolicy.for_base("crm", "http://127.0.0.1:8080", ("*.example.com",))
    with pytest.raises(OriginRefusedError, match="over https only"):
        lax.check(httpx.URL("http://eu.example.com/x"))
