"""The platform webhook receiver: `POST /webhooks/platform` (FastAPI).

Checks, in this order, each refusal a JSON problem body (RFC 9457) and nothing started:
  413 body over the size limit · 401 missing or bad signature · 409 stale timestamp (outside
  5 minutes) or a replay of a delivery this receiver already accepted · 400 not JSON or not
  an event · 422 an event type outside the catalogue.
  (a body nested too deep, a number too long, text that cannot be stored: 400 as well).
Then the events are appended to the event store for every flow that wants them (group commit);
the answer is 200 only once that commit is on disk, 503 only if the store cannot commit now (the
platform retries; dedupe by event id in the store makes the retry harmless). Temporal is not on
this path: the flows' shard workflows read the store. Receivers hold no state that matters: run
several side by side against one store (PostgreSQL for several machines).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.client import Client

from client.dashboard import dashboard_router
from client.router import EventTooOdd, FlowRouter
from eventsync import telemetry
from eventsync.definitions import Definitions
from eventsync.flows.events import MAX_BODY_BYTES, EventParseError, parse_body
from eventsync.flows.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, Verifier
from eventsync.keyring import keyring_from_env
from eventsync.store import StoreUnavailable, open_store
from eventsync.store.watch import in_thread
from worker.registry import TASK_QUEUE

log = logging.getLogger("eventsync.receiver")
PROBLEM = "application/problem+json"
WEBHOOK_PATH = "/webhooks/platform"
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
    connect: Callable[[], Awaitable[Client]] | None = None  # Temporal: to start idle shards, the dashboard
    store_url: str | None = None  # default: EVENTSYNC_STORE, else .eventsync/events.sqlite3 here
    task_queue: str = TASK_QUEUE
    max_body_bytes: int = MAX_BODY_BYTES
    clock: Callable[[], float] = field(default=time.time)


def _problem(status: int, title: str, detail: str, kind: str) -> tuple[int, dict[str, Any]]:
    return status, {
        "type": f"https://eventsync.dev/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
    }


Handler = Callable[[dict[str, str], bytes], Awaitable[tuple[int, dict[str, Any]]]]


class WebhookRoute:
    """`POST /webhooks/platform` as plain ASGI in front of the FastAPI app: the hot path skips
    routing, dependency solving and response classes (~40 % of the receiver's CPU per webhook);
    every other path goes on to FastAPI."""

    def __init__(self, app: ASGIApp, handle: Handler, limit: int) -> None:
        self.app = app
        self.handle = handle
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != WEBHOOK_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        status = 0
        answer: dict[str, Any] = {}
        if declared.isdigit() and int(declared) > self.limit:
            status, answer = _problem(413, "Body too large", f"limit is {self.limit} bytes", "too-large")
        else:
            chunks: list[bytes] = []
            size, more = 0, True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.limit:
                    status, answer = _problem(413, "Body too large", f"limit is {self.limit} bytes", "too-large")
                    break
                chunks.append(chunk)
                more = message.get("more_body", False)
            if not status:
                status, answer = await self.handle(headers, b"".join(chunks))
        payload = json.dumps(answer, separators=(",", ":")).encode()
        kind = b"application/json" if status < 400 else PROBLEM.encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def create_app(settings: ReceiverSettings) -> FastAPI:
    verifier = Verifier(settings.secrets)
    holder: dict[str, Any] = {}

    store = open_store(settings.store_url)

    async def temporal() -> Client:
        client: Client | None = holder.get("client")
        if client is None:
            assert settings.connect is not None
            client = holder["client"] = await settings.connect()
        return client

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        holder["router"] = FlowRouter(
            store,
            settings.definitions,
            settings.task_queue,
            client=temporal if settings.connect is not None else None,
            keyring=keyring_from_env(),
        )
        try:
            await in_thread(store.last_seq)  # creates the schema; a store down now may come back
        except StoreUnavailable as err:
            log.error("event store unavailable at start: %s; webhooks get 503 until it answers", err)
        if settings.connect is not None:
            try:
                await temporal()
            except Exception as err:  # noqa: BLE001 - webhooks are stored without Temporal
                log.warning("Temporal not reachable at start (%s): events are stored; shards start later",
                            type(err).__name__)
        yield

    app = FastAPI(
        title="eventsync webhook receiver", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.verifier = verifier
    app.state.holder = holder
    app.include_router(dashboard_router(lambda: holder["client"], settings.definitions))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        # Ready means "a webhook would be stored": the store can commit. Temporal is not needed.
        try:
            await in_thread(store.check_writable)
        except StoreUnavailable as err:
            return problem(503, "Not ready", f"event store unavailable: {err}", "not-ready")
        return JSONResponse({"status": "ready", "flows": len(settings.definitions.flows)})

    async def platform_webhook(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """(status, JSON answer) of one delivery; a problem body for every refusal."""
        signature = headers.get(SIGNATURE_HEADER.lower())
        timestamp = headers.get(TIMESTAMP_HEADER.lower())
        now = settings.clock()
        try:
            verifier.verify(timestamp, signature, body, now)
        except SignatureError as err:
            status = _STATUS[err.kind]
            title = "Stale or replayed delivery" if status == 409 else "Signature verification failed"
            return _problem(status, title, str(err), f"signature-{err.kind}")
        try:
            doc = json.loads(body)
        except (UnicodeDecodeError, ValueError) as err:  # ValueError: also a number too long to read
            return _problem(400, "Malformed body", f"not JSON: {str(err)[:200]}", "malformed")
        except RecursionError:
            return _problem(400, "Malformed body", "JSON nested too deep", "malformed")
        try:
            events = parse_body(doc)
        except EventParseError as err:
            if err.unknown_type:
                return _problem(422, "Unknown event type", str(err), "unknown-event-type")
            return _problem(400, "Malformed event", str(err), "malformed")
        except RecursionError:
            return _problem(400, "Malformed event", "event nested too deep", "malformed")
        router: FlowRouter = holder["router"]
        try:
            rows = router.rows(events)
        except (EventTooOdd, RecursionError) as err:
            return _problem(400, "Malformed event", str(err) or "event nested too deep", "malformed")
        try:
            await router.appender.append(rows)
        except StoreUnavailable as err:
            log.warning("event store did not commit %d event(s): %s", len(events), err)
            return _problem(503, "Not stored", "the event store cannot commit now; retry later", "unavailable")
        router.stored(rows)
        assert signature is not None
        verifier.accepted(signature, now, timestamp)
        for row in rows:
            telemetry.record_event(row.flow, source="webhook")
        return 200, {"accepted": len(events), "routed": len(rows), "ids": [e.id for e in events]}

    app.add_middleware(WebhookRoute, handle=platform_webhook, limit=settings.max_body_bytes)
    return app
