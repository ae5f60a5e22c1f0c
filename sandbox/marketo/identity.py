"""The identity service: client credentials in the query (or a form), one token per client id
returned until it expires."""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.marketo.site import Site, Token


def router(site: Site) -> APIRouter:
    settings, st = site.settings, site.st
    r = APIRouter()

    async def token(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST" and "form" in request.headers.get("content-type", ""):
            params.update({k: v[0] for k, v in parse_qs((await request.body()).decode()).items()})
        if params.get("grant_type") != "client_credentials":
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant_type must be client_credentials",
                },
                status_code=400,
            )
        cid, secret = params.get("client_id"), params.get("client_secret")
        if cid != settings.client_id or secret != settings.client_secret:
            st.count("identity_401")
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Bad client credentials"}, status_code=401
            )
        now = time.monotonic()
        live = st.tokens.get(st.current.get(cid, ""))
        if live is None or live.expires_at <= now:
            live = Token(f"{uuid.uuid4()}:ab", cid, now + settings.token_ttl_s)
            st.tokens[live.value] = live
            st.current[cid] = live.value
            st.count("tokens_issued")
        return JSONResponse(
            {
                "access_token": live.value,
                "token_type": "bearer",
                "expires_in": max(0, int(live.expires_at - now)),
                "scope": settings.api_user_email,
            }
        )

    r.add_api_route("/identity/oauth/token", token, methods=["GET", "POST"])

    return r
