"""The Touchpoint end-to-end world: platform emulator (signed webhooks) -> receiver -> Temporal
(real dev server) -> Touchpoint flow shards -> Touchpoint emulator; and reprocess runs."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from temporalio.client import Client

from client.receiver import ReceiverSettings, create_app
from eventsync.definitions import Definitions
from eventsync.definitions.connections import Connection
from eventsync.definitions.touchpoint import TouchpointDefinition
from sandbox import touchpoint as tp_app
from sandbox.platform import create_app as platform_app
from sandbox.platform.app import API
from sandbox.serving import Served, served
from worker.converter import data_converter

SECRET = "tp-webhook-secret"
ACCOUNT = "ACME"
SYNCED = "Touchpoint: Synced"
RELATED = "Touchpoint: Related Link"
os.environ.setdefault("TP_TEST_PLATFORM_PASSWORD", "sandbox")
os.environ.setdefault("TP_TEST_TOUCHPOINT_TOKEN", "tp-sandbox-token")


def definitions(
    platform_url: str, touchpoint_url: str, token_var: str = "TP_TEST_TOUCHPOINT_TOKEN", **over: Any
) -> Definitions:
    raw: dict[str, Any] = {
        "name": f"tp-{uuid.uuid4().hex[:8]}",
        "account": ACCOUNT,
        "connection": "touchpoint",
        "platform": "platform",
        "shards": 2,
        "idle_finish_s": 60,
        "page_size": 20,
    }
    raw.update(over)
    return Definitions(
        connections=[
            Connection.model_validate(
                {
                    "name": "platform",
                    "vendor": "platform",
                    "base_url": platform_url,
                    "auth": {
                        "kind": "basic",
                        "username": "sandbox",
                        "password": "${env:TP_TEST_PLATFORM_PASSWORD}",
                    },
                }
            ),
            Connection.model_validate(
                {
                    "name": "touchpoint",
                    "vendor": "touchpoint",
                    "base_url": touchpoint_url,
                    "auth": {"kind": "bearer", "token": f"${{env:{token_var}}}"},
                }
            ),
        ],
        touchpoint=TouchpointDefinition.model_validate(raw),
    )


@dataclass
class World:
    platform: Served
    touchpoint: Served
    http: httpx.AsyncClient
    event_code: str
    event_id: int
    defs: Definitions

    # ---- platform ---------------------------------------------------------------------------

    async def p(self, method: str, path: str, **kw: Any) -> Any:
        r = await self.http.request(method, self.platform.url + API + path, auth=("sandbox", "sandbox"), **kw)
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    async def register(self, email: str, status: str = "New", **profile: Any) -> str:
        body = {
            "profile": {
                "firstName": profile.get("first", "Ada"),
                "lastName": profile.get("last", "Lovelace"),
                "email": email,
                "organization": profile.get("org", "Analytical Engines"),
                "position": profile.get("position", "Engineer"),
            },
            "registrationStatusLabel": status,
        }
        reg = await self.p("POST", f"/Registration/{ACCOUNT}/{self.event_code}", json=body)
        return str(reg["registrationCode"])

    async def set_status(self, code: str, status: str) -> None:
        await self.p(
            "POST",
            f"/Registration/{ACCOUNT}/{self.event_code}/{code}",
            json={"registrationStatusLabel": status},
        )

    async def tag_status(self, label: str, tags: list[str]) -> None:
        await self.p("POST", f"/AccountRegistrationStatus/{ACCOUNT}/{label}", json={"tags": tags})

    async def session(self, code: str, values: dict[str, Any], create: bool = False, **fields: Any) -> None:
        body = {"customFields": values, **fields}
        if create:
            body.setdefault("name", f"Session {code}")
            await self.p("POST", f"/Session/{ACCOUNT}/{self.event_code}", json={"sessionCode": code, **body})
        else:
            await self.p("POST", f"/Session/{ACCOUNT}/{self.event_code}/{code}", json=body)

    async def drain(self) -> None:
        r = await self.http.post(self.platform.url + "/_sandbox/webhooks/drain?timeout=30")
        assert r.json()["drained"], r.text

    # ---- touchpoint ---------------------------------------------------------------------------

    async def tp_state(self) -> dict[str, Any]:
        r = await self.http.get(self.touchpoint.url + "/_sandbox/state")
        return dict(r.json())

    async def tp_event(self) -> dict[str, Any]:
        return dict(
            (await self.tp_state())["events"].get(str(self.event_id)) or {"attendees": {}, "sessions": {}}
        )

    async def until(
        self, predicate: Callable[[dict[str, Any]], bool], what: str, timeout: float = 60.0
    ) -> dict[str, Any]:
        """Poll Touchpoint's event until predicate holds (bounded; says what never happened)."""
        deadline = time.monotonic() + timeout
        while True:
            ev = await self.tp_event()
            try:
                if predicate(ev):
                    return ev
            except (KeyError, IndexError, TypeError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"Touchpoint never reached: {what}; it holds {ev}")
            await asyncio.sleep(0.2)


async def _setup(http: httpx.AsyncClient, platform_url: str) -> tuple[str, int]:
    async def call(method: str, path: str, **kw: Any) -> Any:
        r = await http.request(method, platform_url + API + path, auth=("sandbox", "sandbox"), **kw)
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    await http.post(platform_url + "/_sandbox/accounts", json={"accountCode": ACCOUNT})
    await call("POST", f"/Tag/{ACCOUNT}", json={"name": SYNCED, "objects": ["RegistrationStatus"]})
    await call("POST", f"/Tag/{ACCOUNT}", json={"name": RELATED, "objects": ["SessionCustomField"]})
    await call("POST", f"/AccountRegistrationStatus/{ACCOUNT}/New", json={"tags": [SYNCED]})
    await call("POST", f"/AccountRegistrationStatus/{ACCOUNT}/Attended", json={"tags": [SYNCED]})
    ev = await call("POST", f"/Event/{ACCOUNT}", json={"eventCode": "SUMMIT", "eventName": "Summit"})
    code = ev["eventCode"]
    # Layout order is by position: created out of order on purpose (names must not decide order).
    for name, pos, tagged in (
        ("Recording", 2, True),
        ("Slides", 1, True),
        ("Notes", 3, False),
        ("Extra", 4, True),
        ("Bad", 5, True),
    ):
        await call(
            "POST",
            f"/SessionCustomField/{ACCOUNT}/{code}",
            json={"name": name, "position": pos, "tags": [RELATED] if tagged else []},
        )
    return code, int(ev["eventId"])


@asynccontextmanager
async def world(
    client: Client,
    task_queue: str,
    *,
    webhooks: bool = True,
    worker: bool = True,
    token_var: str | None = None,
    **over: Any,
) -> AsyncIterator[World]:
    """`token_var`: an environment variable holding the only bearer token Touchpoint accepts
    (default: the sandbox's token, in TP_TEST_TOUCHPOINT_TOKEN)."""
    from worker.main import build_worker

    async with AsyncExitStack() as stack:
        platform = stack.enter_context(served(platform_app()))
        tokens = [os.environ[token_var]] if token_var else None
        touchpoint = stack.enter_context(served(tp_app.create_app(tokens=tokens)))
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=60))
        code, eid = await _setup(http, platform.url)
        defs = definitions(platform.url, touchpoint.url, token_var or "TP_TEST_TOUCHPOINT_TOKEN", **over)
        if worker:
            await stack.enter_async_context(build_worker(client, task_queue, definitions=defs))
        if webhooks:
            target = client.service_client.config.target_host

            async def connect() -> Client:
                return await Client.connect(
                    target, namespace=client.namespace, data_converter=data_converter()
                )

            rx = stack.enter_context(
                served(
                    create_app(
                        ReceiverSettings(
                            definitions=defs,
                            secrets=[SECRET.encode()],
                            connect=connect,
                            task_queue=task_queue,
                        )
                    )
                )
            )
            r = await http.put(
                platform.url + "/_sandbox/webhooks",
                json={"url": rx.url + "/webhooks/platform", "secret": SECRET, "backoff_initial_s": 0.2},
            )
            assert r.status_code == 200, r.text
        yield World(platform, touchpoint, http, code, eid, defs)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.2)
