"""The login service: `/id` (who am I, where is my pod) and OAuth2 (authorization code,
password and refresh grants; 8 h access tokens, one-use refresh tokens)."""

from __future__ import annotations

import base64
import secrets
import time
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse

from sandbox.eloqua.site import Site, Tok
from sandbox.vendor_common import form_fields


def router(site: Site) -> APIRouter:
    settings, st = site.settings, site.st
    r = APIRouter()

    @r.get("/id")
    async def identity(request: Request) -> Response:
        if not site.authenticated(request):
            st.count("id_not_authenticated")
            return JSONResponse("Not authenticated.")
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "site": {"id": settings.site_id, "name": settings.site_name},
                "user": {
                    "id": 9,
                    "username": settings.username,
                    "displayName": "API User",
                    "firstName": "API",
                    "lastName": "User",
                    "emailAddress": "api.user@sandbox.example",
                },
                "urls": {
                    "base": base,
                    "apis": {
                        "soap": {
                            "standard": f"{base}/API/{{version}}/Service.svc",
                            "dataTransfer": f"{base}/API/{{version}}/DataTransferService.svc",
                            "email": f"{base}/API/{{version}}/EmailService.svc",
                            "externalAction": f"{base}/API/{{version}}/ExternalActionService.svc",
                        },
                        "rest": {
                            "standard": f"{base}/API/REST/{{version}}/",
                            "data": f"{base}/API/Data/{{version}}/",
                            "bulk": f"{base}/API/Bulk/{{version}}/",
                        },
                    },
                },
            }
        )

    @r.get("/auth/oauth2/authorize")
    async def authorize(
        client_id: str, redirect_uri: str, response_type: str = "code", scope: str = "full", state: str = ""
    ) -> Response:
        """No login page: the sandbox signs in its configured user at once."""
        if client_id != settings.client_id or response_type != "code":
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        now = time.monotonic()
        last = st.last_authorize.get(client_id)
        if last is not None and now - last < settings.authorize_min_interval_s:
            st.count("429_authorize")
            return PlainTextResponse("Too Many Requests", status_code=429)
        st.last_authorize[client_id] = now
        code = secrets.token_urlsafe(24)
        st.codes[code] = redirect_uri
        return RedirectResponse(
            f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302
        )

    @r.post("/auth/oauth2/token")
    async def token(request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        try:
            cid, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except ValueError:
            cid = secret = ""
        if (
            not auth.lower().startswith("basic ")
            or cid != settings.client_id
            or secret != settings.client_secret
        ):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if "json" in request.headers.get("content-type", ""):
            try:
                body = await request.json()
            except ValueError:
                return JSONResponse({"error": "invalid_request"}, status_code=400)
        else:
            body = await form_fields(request)
        grant = body.get("grant_type")
        now = time.monotonic()
        if grant == "authorization_code":
            code = body.get("code", "")
            if code not in st.codes or st.codes[code] != body.get("redirect_uri"):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            del st.codes[code]
        elif grant == "password":
            if (
                body.get("username") != f"{settings.site_name}\\{settings.username}"
                or body.get("password") != settings.password
            ):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
        elif grant == "refresh_token":
            rt = body.get("refresh_token", "")
            if st.refresh.get(rt, 0) <= now:
                st.count("refresh_rejected")
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            del st.refresh[rt]  # a refresh token is good for one use
            if settings.refresh_revokes_access_tokens:
                for k in [k for k, t in st.access.items() if t.refresh == rt]:
                    del st.access[k]
        else:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        access = secrets.token_urlsafe(48)
        refresh = secrets.token_urlsafe(48)
        st.refresh[refresh] = now + settings.refresh_token_ttl_s
        st.access[access] = Tok(now + settings.access_token_ttl_s, refresh)
        st.count("tokens_issued")
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "bearer",
                "expires_in": int(settings.access_token_ttl_s),
                "refresh_token": refresh,
            }
        )

    return r
