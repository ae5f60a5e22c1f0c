"""OAuth: authorization code (no consent screen) and refresh grants; 30 min access tokens."""

from __future__ import annotations

import secrets
import time
import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from sandbox.hubspot.site import OAuthToken, Site, error
from sandbox.vendor_common import form_fields


def router(site: Site) -> APIRouter:
    settings, st = site.settings, site.st
    r = APIRouter()

    @r.get("/oauth/authorize")
    async def authorize(client_id: str, redirect_uri: str, scope: str = "", state: str = "") -> Response:
        """No consent screen: the sandbox approves at once and redirects with a code."""
        if client_id != settings.client_id:
            return error(400, "BAD_CLIENT_ID", "unknown client_id")
        code = secrets.token_hex(16)
        st.codes[code] = redirect_uri
        return RedirectResponse(
            f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302
        )

    async def token(request: Request) -> Response:
        form = await form_fields(request)

        def oauth_error(status: str, error: str, message: str) -> JSONResponse:
            return JSONResponse(
                {
                    "status": status,
                    "message": message,
                    "correlationId": str(uuid.uuid4()),
                    "error": error,
                    "error_description": message,
                },
                status_code=400,
            )

        if form.get("client_id") != settings.client_id or form.get("client_secret") != settings.client_secret:
            return oauth_error("BAD_CLIENT_ID", "invalid_client", "missing or unknown client id or secret")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = str(form.get("code", ""))
            if st.codes.get(code) is None or st.codes[code] != form.get("redirect_uri"):
                return oauth_error("BAD_AUTH_CODE", "invalid_grant", "missing or invalid auth code")
            del st.codes[code]
            refresh = str(uuid.uuid4())
            st.refresh_tokens.add(refresh)
        elif grant == "refresh_token":
            refresh = str(form.get("refresh_token", ""))
            if refresh not in st.refresh_tokens:
                return oauth_error("BAD_REFRESH_TOKEN", "invalid_grant", "missing or invalid refresh token")
        else:
            return oauth_error(
                "BAD_GRANT_TYPE", "unsupported_grant_type", f"unsupported grant_type {grant!r}"
            )
        access = "CN" + secrets.token_urlsafe(90)[:118]
        st.access_tokens[access] = OAuthToken(access, time.monotonic() + settings.access_token_ttl_s)
        st.count("tokens_issued")
        return JSONResponse(
            {
                "token_type": "bearer",
                "refresh_token": refresh,
                "access_token": access,
                "expires_in": int(settings.access_token_ttl_s),
            }
        )

    for path in ("/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token"):
        r.add_api_route(path, token, methods=["POST"])

    return r
