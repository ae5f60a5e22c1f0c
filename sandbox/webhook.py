"""Webhook receiver: the destination end of the Webhook and Advanced Webhook flows.

Every request to any path outside ``/_sandbox`` is recorded (method, path, query,
headers, raw body, parsed JSON, time, the status answered) -- including requests that
fault knobs or the auth check turned away, so a test can count delivery attempts.

Configuration (``PUT /_sandbox/config``):

- ``auth``: none / basic / bearer / api_key / oauth2 (see ``sandbox.authcheck``; oauth2
  tokens come from ``POST /oauth/token``); failures get 401.
- ``answer``: the status, JSON body and headers of a successful answer (default 200).
- ``reject``: per-record rules ``{field, equals, status, error}``. ``field`` is a dotted
  path into a record. A single-object body that matches answers the rule's status; a batch
  (a JSON array, or the list at ``records_path``) answers ``batch_status`` (207) with one
  result per record, in input order, when any record matched.

Admin routes: ``GET/DELETE /_sandbox/requests``, ``GET /_sandbox/requests/wait?count=N``,
``GET/PUT /_sandbox/config``, ``GET /_sandbox/state``, ``POST /_sandbox/reset``, plus the
shared ``/_sandbox/faults``.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox import faults as faults_mod
from sandbox.authcheck import AuthConfig, TokenIssuer, challenge, check, install_token_endpoint

DEFAULT_PORT = 8703
ADMIN = faults_mod.ADMIN_PREFIX
MAX_RECORDED = 100_000


class Answer(BaseModel):
    status: int = 200
    body: Any = Field(default_factory=lambda: {"ok": True})
    headers: dict[str, str] = Field(default_factory=dict)


class RejectRule(BaseModel):
    field: str = Field(description="dotted path into one record, e.g. 'profile.email'")
    equals: Any
    status: int = 422
    error: str = "rejected by sandbox rule"


class WebhookConfig(BaseModel):
    auth: AuthConfig = Field(default_factory=AuthConfig)
    answer: Answer = Field(default_factory=Answer)
    reject: list[RejectRule] = Field(default_factory=list)
    records_path: str | None = Field(
        default=None, description="dotted path to the record list of a batch body"
    )
    batch_status: int = 207


@dataclass
class State:
    config: WebhookConfig = field(default_factory=WebhookConfig)
    requests: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0
    changed: asyncio.Condition | None = None

    def condition(self) -> asyncio.Condition:
        # Created lazily so it binds to the server's running loop, not the importer's.
        if self.changed is None:
            self.changed = asyncio.Condition()
        return self.changed


def _dig(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return None
    return obj


class _Recorder:
    """Outermost ASGI middleware: buffers the body, then records request and answer status,
    so that requests turned away by fault knobs or auth are recorded too."""

    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(ADMIN):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        state = self.state
        state.seq += 1
        headers: dict[str, str] = {}
        for k, v in scope.get("headers", []):
            key = k.decode("latin-1").lower()
            value = v.decode("latin-1")
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        text = body.decode("utf-8", errors="replace")
        try:
            parsed: Any = json.loads(text) if text else None
        except ValueError:
            parsed = None
        now = time.time()
        entry: dict[str, Any] = {
            "seq": state.seq,
            "method": scope["method"],
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": headers,
            "body": text,
            "json": parsed,
            "received_at": now,
            "received_at_iso": datetime.fromtimestamp(now, UTC).isoformat(),
            "status": None,
        }
        state.requests.append(entry)
        if len(state.requests) > MAX_RECORDED:
            del state.requests[: len(state.requests) - MAX_RECORDED]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, replay, capture)
        finally:
            cond = state.condition()
            async with cond:
                cond.notify_all()


def _answer(cfg: WebhookConfig, payload: Any) -> Response:
    batch = isinstance(payload, list) or cfg.records_path is not None
    records: list[Any]
    if cfg.records_path is not None:
        found = _dig(payload, cfg.records_path)
        records = found if isinstance(found, list) else []
    elif isinstance(payload, list):
        records = payload
    else:
        records = [payload]
    verdicts: list[RejectRule | None] = []
    for rec in records:
        verdicts.append(next((r for r in cfg.reject if _dig(rec, r.field) == r.equals), None))
    if not any(verdicts):
        return JSONResponse(cfg.answer.body, status_code=cfg.answer.status, headers=cfg.answer.headers)
    if not batch:
        rule = verdicts[0]
        assert rule is not None
        return JSONResponse({"error": rule.error, "field": rule.field}, status_code=rule.status)
    results = [
        {"index": i, "status": "ok"}
        if v is None
        else {"index": i, "status": "error", "code": v.status, "error": v.error, "field": v.field}
        for i, v in enumerate(verdicts)
    ]
    failed = sum(1 for v in verdicts if v is not None)
    return JSONResponse({"results": results, "failed": failed}, status_code=cfg.batch_status)


def create_app(**settings: Any) -> FastAPI:
    """settings: ``config`` (a WebhookConfig or dict) to start with; ``fault_seed`` (int)."""
    state = State()
    issuer = TokenIssuer()
    initial = WebhookConfig.model_validate(settings.get("config") or {})
    state.config = initial.model_copy(deep=True)
    app = FastAPI(title="eventsync sandbox: webhook receiver")
    app.state.sandbox = state
    admin = APIRouter(prefix=ADMIN, tags=["sandbox admin"])

    @admin.get("/requests")
    async def list_requests(since: int = 0, path: str | None = None) -> dict[str, Any]:
        items = [r for r in state.requests if r["seq"] > since and (path is None or r["path"] == path)]
        return {"count": len(items), "requests": items}

    @admin.get("/requests/wait")
    async def wait_requests(
        count: int = Query(..., ge=1),
        timeout_s: float = Query(10.0, alias="timeout", le=120),
        path: str | None = None,
    ) -> dict[str, Any]:
        def matching() -> list[dict[str, Any]]:
            return [r for r in state.requests if path is None or r["path"] == path]

        cond = state.condition()
        try:
            async with asyncio.timeout(timeout_s):
                async with cond:
                    await cond.wait_for(lambda: len(matching()) >= count)
        except TimeoutError:
            pass
        items = matching()
        return {"count": len(items), "complete": len(items) >= count, "requests": items}

    @admin.delete("/requests")
    async def clear_requests() -> dict[str, int]:
        n = len(state.requests)
        state.requests.clear()
        return {"cleared": n}

    @admin.get("/config")
    async def get_config() -> WebhookConfig:
        return state.config

    @admin.put("/config")
    async def put_config(cfg: WebhookConfig) -> WebhookConfig:
        state.config = cfg
        return cfg

    @admin.post("/expire-tokens")
    async def expire_tokens() -> dict[str, int]:
        return {"expired": issuer.expire_all()}

    @admin.get("/state")
    async def get_state() -> dict[str, Any]:
        return {"config": state.config.model_dump(), "received": len(state.requests), "seq": state.seq}

    @admin.post("/reset")
    async def reset() -> dict[str, bool]:
        state.requests.clear()
        state.seq = 0
        state.config = initial.model_copy(deep=True)
        issuer.tokens.clear()
        fault_state.rules.clear()
        return {"reset": True}

    app.include_router(admin)
    fault_state = faults_mod.install(app, faults_mod.Faults(int(settings.get("fault_seed", 0))))

    install_token_endpoint(app, lambda: state.config.auth, issuer)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def receive_any(path: str, request: Request) -> Response:
        cfg = state.config
        reason = check(cfg.auth, request.headers, request.query_params, issuer)
        if reason is not None:
            return challenge(cfg.auth, reason)
        raw = await request.body()
        if not cfg.reject or not raw:
            return JSONResponse(cfg.answer.body, status_code=cfg.answer.status, headers=cfg.answer.headers)
        try:
            payload = json.loads(raw)
        except ValueError:
            return JSONResponse({"error": "body is not JSON"}, status_code=400)
        return _answer(cfg, payload)

    app.add_middleware(_Recorder, state=state)
    return app
