"""Signed outbound webhooks of the platform emulator.

Each change (registration created / updated / status changed, session created / updated)
becomes one event delivered as one POST with a JSON body to the configured URL:

    {"id": "<event id>", "type": "registration.status_changed", "occurredAt": "<ISO 8601>",
     "accountCode": ..., "eventCode": ..., "eventId": <stable int>,
     "object": "registration" | "session", "recordKey": "<registrationCode|sessionCode>",
     "sequence": <per-record counter, 1, 2, ...>, "previousStatus": <only on status_changed>,
     "data": <the record as the API returns it, with tags, questions and properties>}

Headers: ``X-Platform-Event-Id``, ``X-Platform-Event-Type``, ``X-Platform-Timestamp``
(Unix seconds), ``X-Platform-Delivery-Attempt`` (1, 2, ...) and
``X-Platform-Signature: sha256=<hex>`` where
``hex = HMAC-SHA256(key=secret, msg=timestamp + "." + raw_body)`` (UTF-8 bytes). A retry is
re-signed with a fresh timestamp; the event id and body stay the same.

Delivery: a bounded pool of background workers; a non-2xx answer or a transport error is
retried after ``backoff_initial_s * 2**(attempt-1)`` (capped at ``backoff_max_s``) up to
``max_attempts`` in all, then the delivery is marked ``failed``. Retries do not block other
deliveries, so a retried event may arrive after a later event of the same record: receivers
order by ``sequence`` and deduplicate by ``id``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel, Field

EVENT_TYPES = [
    "registration.created",
    "registration.updated",
    "registration.status_changed",
    "session.created",
    "session.updated",
]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookConfig(BaseModel):
    url: str | None = None
    secret: str = ""
    events: list[str] = Field(default_factory=lambda: list(EVENT_TYPES))
    max_attempts: int = Field(default=6, ge=1, le=50)
    backoff_initial_s: float = Field(default=1.0, ge=0.0)
    backoff_max_s: float = Field(default=60.0, ge=0.0)
    timeout_s: float = Field(default=10.0, gt=0.0)
    concurrency: int = Field(default=4, ge=1, le=64)
    # knobs to test a receiver's rejections: shift the signed timestamp, or sign with a wrong key
    timestamp_skew_s: int = 0
    break_signature: bool = False


@dataclass
class Delivery:
    event: dict[str, Any]
    body: bytes
    state: str = "pending"  # pending | delivered | failed
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        e = self.event
        return {
            "id": e["id"],
            "type": e["type"],
            "recordKey": e["recordKey"],
            "sequence": e["sequence"],
            "eventCode": e["eventCode"],
            "state": self.state,
            "attempts": self.attempts,
        }


class Dispatcher:
    def __init__(self, config: WebhookConfig | None = None, log_limit: int = 200_000) -> None:
        self.config = config or WebhookConfig()
        self.log: deque[Delivery] = deque(maxlen=log_limit)
        self.queue: asyncio.Queue[Delivery] | None = None
        self.workers: list[asyncio.Task[None]] = []
        self.timers: set[asyncio.Task[None]] = set()
        self.in_flight = 0
        self.client: httpx.AsyncClient | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.generation = 0
        self.worker_gen = 0

    # lifecycle (bound to the app's lifespan, so to the server's loop)
    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue = asyncio.Queue()
        self.client = httpx.AsyncClient(limits=httpx.Limits(max_connections=64))
        self._spawn()

    def _spawn(self) -> None:
        # Old workers are not cancelled (that would strand a delivery mid-attempt): they
        # retire after the item they hold.
        self.worker_gen += 1
        gen = self.worker_gen
        self.workers = [t for t in self.workers if not t.done()]
        self.workers += [asyncio.create_task(self._work(gen)) for _ in range(self.config.concurrency)]

    async def stop(self) -> None:
        for t in [*self.workers, *self.timers]:
            t.cancel()
        await asyncio.gather(*self.workers, *self.timers, return_exceptions=True)
        if self.client is not None:
            await self.client.aclose()

    def configure(self, config: WebhookConfig) -> None:
        old = self.config.concurrency
        self.config = config
        if self.loop is not None and config.concurrency != old:
            self._spawn()

    def reset(self) -> None:
        self.generation += 1  # pending retries of the old generation are dropped
        self.log.clear()
        for t in self.timers:
            t.cancel()
        self.timers.clear()
        if self.queue is not None:
            while not self.queue.empty():
                self.queue.get_nowait()

    def enqueue(self, event: dict[str, Any]) -> None:
        cfg = self.config
        if not cfg.url or event["type"] not in cfg.events:
            return
        body = json.dumps(event, separators=(",", ":")).encode()
        d = Delivery(event, body)
        self.log.append(d)
        if self.queue is None:
            # Only an app served without its lifespan gets here; say so in the log.
            d.state = "failed"
            d.attempts.append(
                {"attempt": 0, "at": time.time(), "status": None, "error": "dispatcher not started"}
            )
            return
        self.queue.put_nowait(d)

    def pending(self) -> int:
        queued = self.queue.qsize() if self.queue is not None else 0
        return queued + self.in_flight + len(self.timers)

    async def drain(self, within_s: float) -> bool:
        deadline = time.monotonic() + within_s
        while self.pending():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def _work(self, gen: int) -> None:
        assert self.queue is not None
        while gen == self.worker_gen:
            d = await self.queue.get()
            self.in_flight += 1
            try:
                await self._attempt(d)
            finally:
                self.in_flight -= 1

    async def _attempt(self, d: Delivery) -> None:
        cfg = self.config
        assert self.client is not None
        n = len(d.attempts) + 1
        ts = str(int(time.time()) + cfg.timestamp_skew_s)
        key = cfg.secret + "-wrong" if cfg.break_signature else cfg.secret
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "eventsync-sandbox-platform/1",
            "X-Platform-Event-Id": d.event["id"],
            "X-Platform-Event-Type": d.event["type"],
            "X-Platform-Timestamp": ts,
            "X-Platform-Signature": sign(key, ts, d.body),
            "X-Platform-Delivery-Attempt": str(n),
        }
        record: dict[str, Any] = {"attempt": n, "at": time.time(), "status": None, "error": None}
        d.attempts.append(record)
        if not cfg.url:
            record["error"] = "no webhook URL configured"
            d.state = "failed"
            return
        try:
            r = await self.client.post(cfg.url, content=d.body, headers=headers, timeout=cfg.timeout_s)
            record["status"] = r.status_code
            ok = 200 <= r.status_code < 300
        except httpx.HTTPError as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
            ok = False
        if ok:
            d.state = "delivered"
            return
        if n >= cfg.max_attempts:
            d.state = "failed"
            return
        delay = min(cfg.backoff_initial_s * 2 ** (n - 1), cfg.backoff_max_s)
        record["retry_in_s"] = delay
        gen = self.generation
        task = asyncio.create_task(self._later(d, delay, gen))
        self.timers.add(task)
        task.add_done_callback(self.timers.discard)

    async def _later(self, d: Delivery, delay: float, gen: int) -> None:
        await asyncio.sleep(delay)
        if gen == self.generation and self.queue is not None:
            self.queue.put_nowait(d)


def new_event(
    kind: str, account: str, event_code: str, event_id: int, key: str, seq: int, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "occurredAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "accountCode": account,
        "eventCode": event_code,
        "eventId": event_id,
        "object": kind.split(".")[0],
        "recordKey": key,
        "sequence": seq,
        "data": data,
    }
