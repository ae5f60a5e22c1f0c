"""Shared pieces of the Signal end-to-end tests: a webhook destination, a worker, a receiver,
and a signer standing in for the platform (until the platform emulator's signed webhooks land)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from temporalio.client import Client

from client.receiver import ReceiverSettings, create_app
from eventsync.definitions import Definitions
from eventsync.definitions.connections import Connection
from eventsync.definitions.flows import FlowDefinition
from eventsync.signal.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from sandbox import webhook
from sandbox.serving import Served, served
from worker.converter import data_converter

SECRET = b"test-webhook-secret"


def flow_def(dest_url: str, **over: Any) -> tuple[Definitions, FlowDefinition]:
    name = over.pop("name", f"f-{uuid.uuid4().hex[:8]}")
    raw: dict[str, Any] = {
        "name": name,
        "source": {
            "account": "ACME",
            "events": ["registration.created", "registration.updated", "registration.status_changed"],
        },
        "destination": {
            "kind": "webhook",
            "connection": "dest",
            "path": "/hook",
            "mappings": [{"fields": {"code": "$.registrationCode", "status": "$.status", "seq": "$.seq"}}],
        },
        "shards": 2,
        "idle_finish_s": 30,
    }
    raw.update(over)
    flow = FlowDefinition.model_validate(raw)
    defs = Definitions(connections=[Connection(name="dest", base_url=dest_url)], flows=[flow])  # type: ignore[call-arg]
    return defs, flow


def event(
    record: str, seq: int, status: str = "Registered", etype: str = "registration.status_changed"
) -> dict[str, Any]:
    return {
        "id": f"evt-{record}-{seq}-{uuid.uuid4().hex[:6]}",
        "type": etype,
        "account": "ACME",
        "event_code": "SUMMIT",
        "data": {"registration": {"registrationCode": record, "status": status, "seq": seq}},
    }


def signed_headers(body: bytes, ts: int | None = None, secret: bytes = SECRET) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    return {
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: sign(secret, ts, body),
        "Content-Type": "application/json",
    }


async def post_event(http: httpx.AsyncClient, url: str, doc: Any, ts: int | None = None) -> httpx.Response:
    body = json.dumps(doc).encode()
    return await http.post(url + "/webhooks/platform", content=body, headers=signed_headers(body, ts))


@contextmanager
def receiver(client: Client, defs: Definitions, task_queue: str) -> Iterator[Served]:
    target = client.service_client.config.target_host

    async def connect() -> Client:
        # The receiver runs on its own event loop (thread): it connects like a real process does.
        return await Client.connect(target, namespace=client.namespace, data_converter=data_converter())

    app = create_app(
        ReceiverSettings(definitions=defs, secrets=[SECRET], connect=connect, task_queue=task_queue)
    )
    with served(app) as s:
        yield s


@contextmanager
def destination(**config: Any) -> Iterator[Served]:
    with served(webhook.create_app(config=config or None)) as s:
        yield s


@dataclass
class Delivered:
    requests: list[dict[str, Any]]

    def ok(self) -> list[dict[str, Any]]:
        """Successful deliveries, first per idempotency key (a key seen again is a redelivery)."""
        seen: set[str] = set()
        out = []
        for r in self.requests:
            if r["status"] != 200:
                continue
            key = r["headers"].get("idempotency-key", "")
            if key in seen:
                continue
            seen.add(key)
            out.append(r)
        return out

    def seqs(self, record: str) -> list[int]:
        return [r["json"]["seq"] for r in self.ok() if r["json"] and r["json"].get("code") == record]


async def delivered(dest: Served) -> Delivered:
    async with httpx.AsyncClient() as http:
        r = await http.get(dest.url + "/_sandbox/requests")
        r.raise_for_status()
        return Delivered(r.json()["requests"])


async def wait_for(dest: Served, predicate: Any, timeout: float = 60.0) -> Delivered:
    """Poll the destination until predicate(Delivered) holds (bounded; raises on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        d = await delivered(dest)
        if predicate(d):
            return d
        if time.monotonic() > deadline:
            raise AssertionError(
                f"destination never reached the expected state; got {len(d.requests)} requests"
            )
        await asyncio.sleep(0.2)
