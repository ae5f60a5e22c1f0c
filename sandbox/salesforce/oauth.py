"""OAuth2 client credentials: a session token, no `expires_in` (it times out after inactivity)."""

from __future__ import annotations

import secrets
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.salesforce.site import Session, Site
from sandbox.vendor_common import form_fields


def router(site: Site) -> APIRouter:
    settings, st = site.settings, site.st
    r = APIRouter()

    @r.post("/services/oauth2/token")
    async def token(request: Request) -> Response:
        form = await form_fields(request)
        if form.get("grant_type") != "client_credentials":
            return JSONResponse(
                {"error": "unsupported_grant_type", "error_description": "grant type not supported"},
                status_code=400,
            )
        if form.get("client_id") != settings.client_id:
            st.count("token_invalid_client")
            return JSONResponse(
                {"error": "invalid_client_id", "error_description": "client identifier invalid"},
                status_code=400,
            )
        if form.get("client_secret") != settings.client_secret:
            st.count("token_invalid_client")
            return JSONResponse(
                {"error": "invalid_client", "error_description": "invalid client credentials"},
                status_code=400,
            )
        tok = "00D000000000001!" + secrets.token_urlsafe(72)
        st.sessions[tok] = Session(tok, time.monotonic())
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "access_token": tok,
                "signature": secrets.token_urlsafe(32),
                "token_format": "opaque",
                "scope": "api",
                "instance_url": base,
                "id": f"{base}/id/00D000000000001EAA/005000000000001AAA",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
            }
        )

    return r
