"""Configurable inbound auth for the generic emulators (webhook receiver, REST source).

The kinds are the ones a webhook or REST connection offers: none, HTTP Basic, a bearer
token, or an API key in a header or the query string. Secrets are compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from typing import Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel


class AuthConfig(BaseModel):
    kind: Literal["none", "basic", "bearer", "api_key"] = "none"
    username: str = ""
    password: str = ""
    token: str = ""
    api_key: str = ""
    name: str = "X-API-Key"
    location: Literal["header", "query"] = "header"


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


def check(cfg: AuthConfig, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """None when the request passes; otherwise why it failed (safe to return to the caller)."""
    if cfg.kind == "none":
        return None
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
    elif cfg.kind == "bearer":
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return JSONResponse({"error": "unauthorized", "detail": reason}, status_code=401, headers=headers)
