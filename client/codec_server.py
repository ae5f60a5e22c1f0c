"""The codec server: lets the Temporal Web UI (Settings → Data Encoder) and
`temporal workflow show --codec-endpoint …` show decrypted payloads to holders of a token.

POST /decode and /encode take and return `{"payloads": [...]}` in protobuf JSON form (what
the Web UI and the CLI send). Every request needs `Authorization: Bearer <token>`; CORS lets
the Web UI's origin call it from the browser.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable, Sequence

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from eventsync.keyring import KeyringError
from eventsync.settings import SettingError, env_or_file
from worker.codec import EncryptionCodec

TOKEN_ENV = "EVENTSYNC_CODEC_TOKEN"
TOKEN_FILE_ENV = "EVENTSYNC_CODEC_TOKEN_FILE"
ORIGINS_ENV = "EVENTSYNC_CODEC_CORS_ORIGINS"
DEFAULT_ORIGIN = "http://localhost:8233"  # the dev server's Web UI
# A Web UI page of history is far below this; the cap keeps one request from exhausting memory.
MAX_BODY_BYTES = 8 * 1024 * 1024
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class CodecServerConfigError(ValueError):
    pass


def token_from_env() -> str:
    try:
        token = env_or_file(TOKEN_ENV)
    except SettingError as err:
        raise CodecServerConfigError(str(err)) from None
    if not token:
        raise CodecServerConfigError(
            f"the codec server needs a bearer token: set {TOKEN_ENV} or {TOKEN_FILE_ENV} "
            "(anyone holding it can read registrant data)"
        )
    return token


def origins_from_env() -> list[str]:
    raw = os.environ.get(ORIGINS_ENV, "")
    return [o.strip() for o in raw.split(",") if o.strip()] or [DEFAULT_ORIGIN]


def create_app(
    codec: EncryptionCodec, token: str | None, cors_origins: Sequence[str] = (DEFAULT_ORIGIN,)
) -> FastAPI:
    """`token=None` only for `eventsync dev`'s own codec server on loopback: the Web UI's Data
    Encoder cannot send a bearer token without UI login, and the key sits beside the dev
    server's database, readable by the same user anyway."""
    if token is not None and not token:
        raise CodecServerConfigError("empty bearer token")
    expected = f"Bearer {token}".encode()
    # The display path reads histories older than encryption too; the worker's codec does not.
    reader = EncryptionCodec(codec.keyring, accept_plaintext=True)
    app = FastAPI(title="eventsync codec server", docs_url=None, redoc_url=None, openapi_url=None)

    def authorize(request: Request) -> None:
        if token is None:
            # No token (dev, loopback): a DNS-rebinding page would reach us under its own host
            # name, and with a simple (text/plain) request to skip the CORS preflight.
            host = request.headers.get("host", "").rsplit(":", 1)[0].strip("[]").lower()
            if host not in _LOOPBACK_HOSTS:
                raise HTTPException(
                    status_code=403, detail="the dev codec server answers loopback Host headers only"
                )
            if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
                raise HTTPException(status_code=415, detail="send Content-Type: application/json")
            return
        given = request.headers.get("authorization", "").encode()
        # Constant-time: the token guards personal data.
        if not hmac.compare_digest(given, expected):
            raise HTTPException(status_code=401, detail="missing or wrong bearer token")

    async def convert(
        request: Request, transform: Callable[[Sequence[Payload]], Awaitable[list[Payload]]]
    ) -> Response:
        authorize(request)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise HTTPException(status_code=413, detail=f"body larger than {MAX_BODY_BYTES} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise HTTPException(status_code=413, detail=f"body larger than {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
        body = b"".join(chunks)
        try:
            payloads = json_format.Parse(body, Payloads(), ignore_unknown_fields=True)
        except json_format.ParseError as err:
            raise HTTPException(status_code=400, detail=f"body is not JSON Payloads: {err}") from None
        try:
            result = await transform(payloads.payloads)
        except KeyringError as err:
            raise HTTPException(status_code=422, detail=str(err)) from None
        return Response(
            content=json_format.MessageToJson(Payloads(payloads=result)), media_type="application/json"
        )

    @app.post("/encode")
    async def encode(request: Request) -> Response:
        return await convert(request, codec.encode)

    @app.post("/decode")
    async def decode(request: Request) -> Response:
        return await convert(request, reader.decode)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "current_key": codec.keyring.current_id}

    # Added last so it wraps everything, 401s included: the browser must see CORS headers on
    # errors too, or the Web UI reports a CORS failure instead of the real status.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(cors_origins),
        allow_credentials=True,
        allow_methods=["POST", "GET", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace"],
    )
    return app
