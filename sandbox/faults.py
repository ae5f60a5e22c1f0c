"""Fault knobs shared by every emulator: seeded, per-endpoint, set through the admin API.

A rule matches requests by method and path prefix and, with probability ``rate`` (drawn
from a seeded RNG so a run repeats), answers for the real endpoint: an HTTP status with a
vendor-shaped JSON body, a delay, a connection reset, or a hang past the client's timeout.
``times`` limits how many requests a rule hits (e.g. "the next 3 calls get 503").

    POST   /_sandbox/faults   {"path": "/rest/v1/leads.json", "status": 200,
                               "body": {"success": false, "errors": [{"code": "606"}]},
                               "rate": 1.0, "times": 2}
    GET    /_sandbox/faults   the rules and how often each fired
    DELETE /_sandbox/faults   clear all rules
    POST   /_sandbox/seed     {"seed": 7}  reseed the RNG
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

ADMIN_PREFIX = "/_sandbox"


class FaultRule(BaseModel):
    path: str = Field(description="path prefix the rule applies to ('' = every endpoint)")
    method: str | None = None
    rate: float = Field(1.0, ge=0.0, le=1.0)
    times: int | None = Field(None, ge=1, description="fire at most this many times")
    action: Literal["respond", "delay", "reset", "hang"] = "respond"
    status: int = 503
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)
    delay_s: float = 0.0
    fired: int = 0


class Faults:
    def __init__(self, seed: int = 0, ignore_case: bool = False) -> None:
        """``ignore_case``: for a vendor whose paths are case-insensitive (Eloqua), a rule
        matches however either side spells the path, or a rule written as the vendor's docs
        spell it would never fire."""
        self.rules: list[FaultRule] = []
        self.rng = random.Random(seed)
        self.ignore_case = ignore_case

    def reseed(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def match(self, method: str, path: str) -> FaultRule | None:
        if self.ignore_case:
            path = path.lower()
        for rule in self.rules:
            prefix = rule.path.lower() if self.ignore_case else rule.path
            if not path.startswith(prefix) or (rule.method and rule.method.upper() != method.upper()):
                continue
            if rule.times is not None and rule.fired >= rule.times:
                continue
            if rule.rate < 1.0 and self.rng.random() >= rule.rate:
                continue
            rule.fired += 1
            return rule
        return None


class FaultMiddleware:
    """Pure ASGI, so that a reset can reach the connection's transport."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        rule = self.faults.match(scope["method"], path)
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.action == "delay":
            await asyncio.sleep(rule.delay_s)
            await self.app(scope, receive, send)
            return
        if rule.action == "hang":
            await asyncio.sleep(rule.delay_s or 3600)
            response: Response = Response(status_code=504)
        elif rule.action == "reset":
            transport = _find_transport(send)
            if transport is not None:
                transport.abort()
                return
            response = Response(status_code=502)
        elif isinstance(rule.body, str):
            response = Response(
                rule.body, status_code=rule.status, headers=rule.headers, media_type="text/plain"
            )
        else:
            response = JSONResponse(rule.body, status_code=rule.status, headers=rule.headers)
        await response(scope, receive, send)


def _find_transport(send: Any, depth: int = 0) -> Any:
    """uvicorn's innermost send is bound to the request cycle, which holds the socket's
    transport; Starlette's outer middleware wrap it in closures, so follow those."""
    cycle = getattr(send, "__self__", None)
    if cycle is not None and hasattr(cycle, "transport"):
        return cycle.transport
    if depth > 8:
        return None
    for cell in getattr(send, "__closure__", None) or ():
        inner = cell.cell_contents
        if callable(inner):
            found = _find_transport(inner, depth + 1)
            if found is not None:
                return found
    return None


def install(app: FastAPI, faults: Faults | None = None) -> Faults:
    """Add the fault middleware and the /_sandbox/faults admin routes to an emulator app."""
    faults = faults or Faults()
    app.add_middleware(FaultMiddleware, faults=faults)
    router = APIRouter(prefix=ADMIN_PREFIX, tags=["sandbox admin"])

    @router.post("/faults")
    async def add_fault(rule: FaultRule) -> dict[str, Any]:
        faults.rules.append(rule)
        return {"index": len(faults.rules) - 1}

    @router.get("/faults")
    async def list_faults() -> list[FaultRule]:
        return faults.rules

    @router.delete("/faults")
    async def clear_faults() -> dict[str, int]:
        n = len(faults.rules)
        faults.rules.clear()
        return {"cleared": n}

    class SeedBody(BaseModel):
        seed: int

    @router.post("/seed")
    async def reseed(body: SeedBody) -> dict[str, int]:
        faults.reseed(body.seed)
        return {"seed": body.seed}

    app.include_router(router)
    return faults
