"""A small real OAuth2/API server for testing the HTTP core (not an emulator of any vendor).

It issues tokens by client credentials (form POST or Marketo-style query GET) and by refresh
token, counts token requests, can expire every token at once, and serves /data which needs a
valid bearer token (or Basic / API key, per route) and echoes the Authorization header.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

CLIENT_ID = "client-1"
CLIENT_SECRET = "s3cret-client-value"
REFRESH_TOKEN = "refresh-token-value"


@dataclass
class AuthState:
    ttl_s: float = 3600.0
    tokens: dict[str, float] = field(default_factory=dict)
    token_requests: int = 0
    data_calls: int = 0
    seen_auth: list[str] = field(default_factory=list)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def issue(self) -> dict[str, Any]:
        self.token_requests += 1
        token = f"tok-{next(self.counter)}"
        self.tokens[token] = time.time() + self.ttl_s
        return {"access_token": token, "token_type": "bearer", "expires_in": self.ttl_s}


def create_app(state: AuthState) -> FastAPI:
    app = FastAPI()

    @app.post("/oauth/token")
    async def token_post(request: Request) -> JSONResponse:
        form = await request.form()
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") != REFRESH_TOKEN:
                return JSONResponse({"error": "invalid_grant", "error_description": "bad refresh token"}, 400)
        elif form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Bad client credentials"}, 401
            )
        return JSONResponse(state.issue())

    @app.get("/identity/oauth/token")
    async def token_query(request: Request) -> JSONResponse:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("client_secret") != CLIENT_SECRET:
            return JSONResponse({"error": "unauthorized", "error_description": "Bad client credentials"}, 401)
        return JSONResponse(state.issue())

    @app.get("/data")
    async def data(request: Request) -> JSONResponse:
        state.data_calls += 1
        header = request.headers.get("authorization", "")
        state.seen_auth.append(header)
        token = header.removeprefix("Bearer ")
        if token not in state.tokens or state.tokens[token] < time.time():
            return JSONResponse({"message": "token expired or invalid"}, 401)
        return JSONResponse({"ok": True, "token": token})

    @app.post("/_expire")
    async def expire() -> dict[str, int]:
        for t in state.tokens:
            state.tokens[t] = 0.0
        return {"expired": len(state.tokens)}

    @app.get("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        state.seen_auth.append(request.headers.get("authorization", ""))
        return {
            "authorization": request.headers.get("authorization"),
            "query": dict(request.query_params),
            "x_api_key": request.headers.get("x-api-key"),
        }

    @app.get("/status/{code}")
    async def status(code: int, request: Request) -> JSONResponse:
        headers = (
            {"Retry-After": request.query_params["retry_after"]}
            if "retry_after" in request.query_params
            else {}
        )
        return JSONResponse({"error": f"status {code}"}, code, headers=headers)

    return app
