"""Configurable inbound auth for the generic emulators (webhook receiver, REST source).

The kinds are the ones a webhook or REST connection offers: none, HTTP Basic, a bearer
token, an API key in a header or the query string, or OAuth2 client credentials (tokens
from the emulator's own ``POST /oauth/token``, then sent as bearer tokens). Secrets are
compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Literal
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

TOKEN_PATH = "/oauth/token"


class AuthConfig(BaseModel):
    kind: Literal["none", "basic", "bearer", "api_key", "oauth2"] = "none"
    username: str = ""
    password: str = ""
    token: str = ""
    api_key: str = ""
    name: str = "X-API-Key"
    location: Literal["header", "query"] = "header"
    client_id: str = ""
    client_secret: str = ""
    token_ttl_s: int = 3600


class TokenIssuer:
    """Access tokens handed out by ``POST /oauth/token``, each valid for ``token_ttl_s``."""

    def __init__(self) -> None:
        self.tokens: dict[str, float] = {}
        self.issued = 0

    def issue(self, ttl_s: int) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.time() + ttl_s
        self.issued += 1
        return token

    def valid(self, token: str) -> bool:
        expiry = self.tokens.get(token)
        return expiry is not None and expiry > time.time()

    def expire_all(self) -> int:
        n = len(self.tokens)
        self.tokens = dict.fromkeys(self.tokens, 0.0)
        return n


def _eq(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def check(
    cfg: AuthConfig, headers: Mapping[str, str], query: Mapping[str, str], issuer: TokenIssuer | None = None
) -> str | None:
    """None when the request passes; otherwise why it failed (safe to return to the caller)."""
    if cfg.kind == "none":
        return None
    if cfg.kind == "oauth2":
        value = headers.get("authorization") or ""
        if not value.lower().startswith("bearer "):
            return "missing bearer token"
        ok = issuer is not None and issuer.valid(value[7:].strip())
        return None if ok else "invalid or expired access token"
    if cfg.kind == "basic":
        creds = basic_credentials(headers.get("authorization"))
        if creds is None:
            return "missing or malformed Basic credentials"
        ok = _eq(creds[0], cfg.username) & _eq(creds[1], cfg.password)
        return None if ok else "bad username or password"
    if cfg.kind == "bearer":
        value = headers.get("authorization") or ""
        if not value.lower().startswith("bearer "):
            return "missing bearer token"
        return None if _eq(value[7:].strip(), cfg.token) else "invalid bearer token"
    given = headers.get(cfg.name.lower()) if cfg.location == "header" else query.get(cfg.name)
    if not given:
        return f"missing API key ({cfg.location} {cfg.name})"
    return None if _eq(given, cfg.api_key) else "invalid API key"


def challenge(cfg: AuthConfig, reason: str) -> JSONResponse:
    headers = {}
    if cfg.kind == "basic":
        headers["WWW-Authenticate"] = 'Basic realm="sandbox"'
    elif cfg.kind in ("bearer", "oauth2"):
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return JSONResponse({"error": "unauthorized", "detail": reason}, status_code=401, headers=headers)


def install_token_endpoint(app: FastAPI, config: Callable[[], AuthConfig], issuer: TokenIssuer) -> None:
    """``POST /oauth/token`` (client-credentials grant, RFC 6749 §4.4): client id and secret
    by HTTP Basic (``client_secret_basic``) or in the form (``client_secret_post``). Answers
    404 unless the current auth kind is ``oauth2``."""

    @app.post(TOKEN_PATH, include_in_schema=False)
    async def token(request: Request) -> JSONResponse:
        cfg = config()
        if cfg.kind != "oauth2":
            return JSONResponse(
                {"error": "not_found", "error_description": "oauth2 is not enabled"}, status_code=404
            )
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return JSONResponse(
                {"error": "unsupported_grant_type", "error_description": "only client_credentials"},
                status_code=400,
            )
        creds = basic_credentials(request.headers.get("authorization"))
        client_id, client_secret = creds or (form.get("client_id", ""), form.get("client_secret", ""))
        if not (_eq(client_id, cfg.client_id) & _eq(client_secret, cfg.client_secret)):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        access = issuer.issue(cfg.token_ttl_s)
        return JSONResponse(
            {"access_token": access, "token_type": "Bearer", "expires_in": cfg.token_ttl_s},
            headers={"Cache-Control": "no-store"},
        )
