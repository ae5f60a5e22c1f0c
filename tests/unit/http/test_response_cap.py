"""Issue 13 item 9, against a real listener: a gzip bomb is refused once its decompressed size
passes the connection's max_response_bytes, as a permanent error; the codec server caps bodies."""

from __future__ import annotations

import gzip

import httpx
import pytest
from fastapi import FastAPI, Response

from eventsync.definitions.connections import Connection
from eventsync.http import ConnectionPool
from eventsync.http.errors import PermanentHTTPError, ResponseTooLargeError
from sandbox.serving import served

BOMB = gzip.compress(b"0" * (8 * 1024 * 1024))  # ~8 KB on the wire, 8 MB decompressed


def bomb_app() -> FastAPI:
    app = FastAPI()

    @app.get("/bomb")
    async def bomb() -> Response:
        return Response(BOMB, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})

    @app.get("/small")
    async def small() -> Response:
        return Response(
            gzip.compress(b'{"ok": true}'),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    return app


async def test_a_gzip_bomb_stops_at_max_response_bytes() -> None:
    assert len(BOMB) < 64 * 1024
    with served(bomb_app()) as s:
        conn = Connection.model_validate(
            {"name": "src", "base_url": s.url, "max_response_bytes": 1024 * 1024}
        )
        pool = ConnectionPool()
        try:
            client = pool.client(conn)
            assert (await client.request("GET", "/small")).json() == {"ok": True}  # decoded as before
            with pytest.raises(ResponseTooLargeError) as err:
                await client.request("GET", "/bomb")
        finally:
            await pool.aclose()
    assert isinstance(err.value, PermanentHTTPError) and not err.value.retryable
    assert "connection 'src': GET /bomb answered more than max_response_bytes (1048576 bytes" in str(
        err.value
    )


def test_default_cap_is_32_mib() -> None:
    assert (
        Connection.model_validate({"name": "c", "base_url": "https://a.example"}).max_response_bytes
        == 32 * 1024 * 1024
    )


def test_codec_server_refuses_an_oversized_body() -> None:
    from client.codec_server import MAX_BODY_BYTES, create_app
    from eventsync.keyring import parse_keys
    from worker.codec import EncryptionCodec

    app = create_app(EncryptionCodec(parse_keys("k1:ZXZlbnRzeW5jLXRlc3Qtc3VpdGUta2V5LTEtLS0tLS0=")), "tok")
    with served(app) as s:
        big = b'{"payloads": [' + b" " * (MAX_BODY_BYTES + 1) + b"]}"
        resp = httpx.post(f"{s.url}/decode", content=big, headers={"Authorization": "Bearer tok"})
        assert resp.status_code == 413

        def chunks():  # no Content-Length: the stream itself is counted
            for _ in range(MAX_BODY_BYTES // 65536 + 2):
                yield b" " * 65536

        resp = httpx.post(f"{s.url}/decode", content=chunks(), headers={"Authorization": "Bearer tok"})
        assert resp.status_code == 413
        ok = httpx.post(f"{s.url}/decode", json={"payloads": []}, headers={"Authorization": "Bearer tok"})
        assert ok.status_code == 200


def test_dev_codec_server_answers_loopback_hosts_and_json_only() -> None:
    from client.codec_server import create_app
    from eventsync.keyring import parse_keys
    from worker.codec import EncryptionCodec

    app = create_app(EncryptionCodec(parse_keys("k1:ZXZlbnRzeW5jLXRlc3Qtc3VpdGUta2V5LTEtLS0tLS0=")), None)
    with served(app) as s:
        body = '{"payloads": []}'
        rebound = httpx.post(
            f"{s.url}/decode",
            content=body,
            headers={"Host": "evil.example:8081", "Content-Type": "application/json"},
        )
        assert rebound.status_code == 403
        simple = httpx.post(f"{s.url}/decode", content=body, headers={"Content-Type": "text/plain"})
        assert simple.status_code == 415
        assert httpx.post(f"{s.url}/decode", json={"payloads": []}).status_code == 200
