"""The platform webhook receiver: `POST /webhooks/platform` (FastAPI).

Checks, in this order, each refusal a JSON problem body (RFC 9457) and nothing started:
  413 body over the size limit · 401 missing or bad signature · 409 stale timestamp (outside
  5 minutes) or a replay of a delivery this receiver already accepted · 400 not JSON or not
  an event · 422 an event type outside the catalogue.
Then every matching flow shard is signalled (signal-with-start); the answer is 200 only once
Temporal accepted all of them, 503 if it did not (the platform retries; dedupe by event id
makes the retry harmless). Receivers hold no state that matters: run several side by side.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client

from client.dashboard import dashboard_router
from client.router import FlowRouter, flows_for
from eventsync import telemetry
from eventsync.definitions import Definitions
from eventsync.signal.events import MAX_BODY_BYTES, EventParseError, parse_body
from eventsync.signal.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, Verifier
from worker.registry import TASK_QUEUE

log = logging.getLogger("eventsync.receiver")
PROBLEM = "application/problem+json"
_STATUS = {"missing": 401, "bad": 401, "stale": 409, "replayed": 409}


def problem(status: int, title: str, detail: str, kind: str) -> JSONResponse:
    return JSONResponse(
        {
            "type": f"https://eventsync.dev/problems/{kind}",
            "title": title,
            "status": status,
            "detail": detail,
        },
        status_code=status,
        media_type=PROBLEM,
    )


@dataclass
class ReceiverSettings:
    definitions: Definitions
    secrets: list[bytes]
    connect: Callable[[], Awaitable[Client]]
    task_queue: str = TASK_QUEUE
    max_body_bytes: int = MAX_BODY_BYTES
    clock: Callable[[], float] = field(default=time.time)


class _TooLarge(Exception):
    pass


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(settings: ReceiverSettings) -> FastAPI:
    verifier = Verifier(settings.secrets)
    holder: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        client = await settings.connect()
        holder["router"] = FlowRouter(client, settings.definitions, settings.task_queue)
        holder["client"] = client
        yield

    app = FastAPI(title="eventsync webhook receiver", lifespan=lifespan)
    app.state.verifier = verifier
    app.state.holder = holder
    app.include_router(dashboard_router(lambda: holder["client"], settings.definitions))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        client: Client | None = holder.get("client")
        if client is None:
            return problem(503, "Not ready", "not connected to Temporal yet", "not-ready")
        try:
            ok = await client.service_client.check_health()
        except Exception as err:
            return problem(
                503, "Not ready", f"Temporal health check failed: {type(err).__name__}", "not-ready"
            )
        if not ok:
            return problem(503, "Not ready", "Temporal reports not serving", "not-ready")
        return JSONResponse({"status": "ready", "flows": len(settings.definitions.flows)})

    @app.post("/webhooks/platform")
    async def platform_webhook(request: Request) -> JSONResponse:
        try:
            body = await _read_limited(request, settings.max_body_bytes)
        except _TooLarge:
            return problem(413, "Body too large", f"limit is {settings.max_body_bytes} bytes", "too-large")
        signature = request.headers.get(SIGNATURE_HEADER)
        now = settings.clock()
        try:
            verifier.verify(request.headers.get(TIMESTAMP_HEADER), signature, body, now)
        except SignatureError as err:
            status = _STATUS[err.kind]
            title = "Stale or replayed delivery" if status == 409 else "Signature verification failed"
            return problem(status, title, str(err), f"signature-{err.kind}")
        try:
            doc = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            return problem(400, "Malformed body", f"not JSON: {err}", "malformed")
        try:
            events = parse_body(doc)
        except EventParseError as err:
            if err.unknown_type:
                return problem(422, "Unknown event type", str(err), "unknown-event-type")
            return problem(400, "Malformed event", str(err), "malformed")
        router: FlowRouter = holder["router"]
        try:
            routed = await router.submit(events, len(body))
        except Exception as err:
            log.warning("Temporal did not accept %d event(s): %s", len(events), type(err).__name__)
            return problem(
                503, "Not accepted", "Temporal did not accept the events; retry later", "unavailable"
            )
        assert signature is not None
        verifier.accepted(signature, now)
        for event in events:
            for flow in flows_for(settings.definitions, event):
                telemetry.record_event(flow.name, source="webhook")
        return JSONResponse({"accepted": len(events), "routed": routed, "ids": [e.id for e in events]})

    return app
