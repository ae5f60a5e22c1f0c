"""Shared pieces of the Signal end-to-end tests: a webhook destination, a worker, a receiver, the
platform emulator sending real signed webhooks, and a signer in the platform's exact format for
the tests that need to send a hand-made (or broken) delivery."""

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

from activities import context
from client.receiver import ReceiverSettings, create_app
from eventsync.definitions import Definitions
from eventsync.definitions.connections import Connection
from eventsync.definitions.flows import FlowDefinition
from eventsync.flows.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from sandbox import webhook
from sandbox.platform import create_app as platform_app
from sandbox.platform import sign as platform_sign
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
            "mapping": {
                "fields": {"code": "$.record.registrationCode", "status": "$.status", "seq": "$.record.seq"}
            },
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
    """A webhook body in the platform's shape (docs/sandbox.md); `seq` rides in the record."""
    return {
        "id": f"evt-{record}-{seq}-{uuid.uuid4().hex[:6]}",
        "type": etype,
        "occurredAt": "2026-11-26T18:00:00Z",
        "accountCode": "ACME",
        "eventCode": "SUMMIT",
        "eventId": 1001,
        "object": "registration",
        "recordKey": record,
        "sequence": seq + 1,
        "previousStatus": None,
        "data": {"registrationCode": record, "registrationStatusLabel": status, "seq": seq},
    }


def signed_headers(body: bytes, ts: int | None = None, secret: bytes = SECRET) -> dict[str, str]:
    """Signed exactly as the platform emulator signs (its own `sign`)."""
    stamp = str(int(time.time()) if ts is None else ts)
    return {
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: platform_sign(secret.decode(), stamp, body),
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

    # The worker in the same test resolves the flow by name from these same definitions.
    context.register(task_queue, defs)
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


PLATFORM_API = "/certainExternal/service/v1"
PLATFORM_AUTH = ("sandbox", "sandbox")
PASSWORD_ENV = "EVENTSYNC_TEST_PLATFORM_PASSWORD"


@contextmanager
def platform(receiver_url: str | None = None) -> Iterator[Served]:
    """The platform emulator (account DEMO seeded with the Signal tags, no registrations), sending
    signed webhooks to the receiver; retries come fast so tests stay short."""
    seed = {"seed": 7, "events": 1, "registrations_per_event": 0, "sessions_per_event": 0}
    hook = None
    if receiver_url:
        hook = {
            "url": receiver_url + "/webhooks/platform",
            "secret": SECRET.decode(),
            "backoff_initial_s": 0.2,
            "backoff_max_s": 1.0,
            "max_attempts": 20,
            "concurrency": 8,
        }
    with served(platform_app(seed=seed, webhook=hook)) as s:
        yield s


def platform_flow(dest_url: str, platform_url: str, **over: Any) -> tuple[Definitions, FlowDefinition]:
    """A flow over the seeded DEMO account: registrations reaching a "Signal: Registered" or
    "Signal: Attended" status go to the webhook destination, with their status."""
    import os

    os.environ[PASSWORD_ENV] = PLATFORM_AUTH[1]
    raw: dict[str, Any] = {
        "name": over.pop("name", f"p-{uuid.uuid4().hex[:8]}"),
        "source": {
            "account": "DEMO",
            "connection": "platform",
            "events": ["registration.created", "registration.updated", "registration.status_changed"],
        },
        "destination": {
            "kind": "webhook",
            "connection": "dest",
            "path": "/hook",
            "mapping": {
                "fields": {
                    "code": "$.record.registrationCode",
                    "status": "$.status",
                    "email": "$.record.profile.email",
                }
            },
        },
        "shards": 2,
        "idle_finish_s": 30,
    }
    raw.update(over)
    flow = FlowDefinition.model_validate(raw)
    conns = [
        Connection(name="dest", base_url=dest_url),  # type: ignore[call-arg]
        Connection.model_validate(
            {
                "name": "platform",
                "vendor": "platform",
                "base_url": platform_url,
                "auth": {"kind": "basic", "username": "sandbox", "password": "${env:" + PASSWORD_ENV + "}"},
            }
        ),
    ]
    return Definitions(connections=conns, flows=[flow]), flow  # type: ignore[call-arg]


async def register(http: httpx.AsyncClient, plat: Served, email: str, status: str = "New") -> str:
    r = await http.post(
        f"{plat.url}{PLATFORM_API}/Registration/DEMO/SUMMIT26",
        json={
            "profile": {"email": email, "firstName": "T", "lastName": email.split("@")[0]},
            "registrationStatusLabel": status,
        },
        auth=PLATFORM_AUTH,
    )
    r.raise_for_status()
    return str(r.json()["registrationCode"])


async def set_status(http: httpx.AsyncClient, plat: Served, code: str, status: str) -> None:
    r = await http.post(
        f"{plat.url}{PLATFORM_API}/Registration/DEMO/SUMMIT26/{code}",
        json={"registrationStatusLabel": status},
        auth=PLATFORM_AUTH,
    )
    r.raise_for_status()


def statuses(d: Delivered, code: str) -> list[str]:
    return [r["json"]["status"] for r in d.ok() if r["json"] and r["json"].get("code") == code]
