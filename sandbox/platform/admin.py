"""The sandbox admin routes (`/_sandbox/...`): state, reset, populate, accounts, clock, webhooks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from sandbox.platform.seeding import populate
from sandbox.platform.site import ADMIN, PlatformSite
from sandbox.platform.store import Store, fmt_ms
from sandbox.platform.webhooks import WebhookConfig


class PopulateBody(BaseModel):
    seed: int = 0
    account: str = "DEMO"
    events: int = Field(default=2, ge=0, le=100)
    registrations_per_event: int = Field(default=2000, ge=0, le=200_000)
    sessions_per_event: int = Field(default=20, ge=0, le=2000)


class AccountBody(BaseModel):
    accountCode: str
    name: str | None = None


class ClockBody(BaseModel):
    advance_ms: int = Field(ge=0)


def router(site: PlatformSite) -> APIRouter:
    store, dispatcher = site.store, site.dispatcher
    r = APIRouter(prefix=ADMIN, tags=["sandbox admin"])

    @r.get("/state")
    async def state() -> dict[str, Any]:
        return {
            "accounts": sorted(store.accounts),
            "events": [
                {
                    "accountCode": e.account,
                    "eventCode": e.code,
                    "eventId": e.event_id,
                    "registrations": len(e.registrations),
                    "sessions": len(e.sessions),
                }
                for e in sorted(store.events.values(), key=lambda e: e.event_id)
            ],
            "clock": fmt_ms(store.clock.now()),
            "webhooks": {"pending": dispatcher.pending(), "logged": len(dispatcher.log)},
        }

    @r.post("/reset")
    async def reset() -> dict[str, bool]:
        fresh = Store(site.emit)
        store.__dict__.update(fresh.__dict__)
        dispatcher.reset()
        site.knobs.rules.clear()
        return {"reset": True}

    @r.post("/populate")
    async def populate_route(body: PopulateBody) -> dict[str, Any]:
        return populate(store, **body.model_dump())

    @r.post("/accounts")
    async def add_account(body: AccountBody) -> dict[str, str]:
        a = store.create_account(body.accountCode, body.name)
        return {"accountCode": a.code, "name": a.name}

    @r.post("/clock")
    async def advance_clock(body: ClockBody) -> dict[str, str]:
        store.clock.offset_ms += body.advance_ms
        return {"now": fmt_ms(store.clock.now())}

    @r.get("/webhooks")
    async def get_webhooks() -> WebhookConfig:
        return dispatcher.config

    @r.put("/webhooks")
    async def put_webhooks(cfg: WebhookConfig) -> WebhookConfig:
        dispatcher.configure(cfg)
        return cfg

    @r.get("/webhooks/deliveries")
    async def deliveries(
        state: str | None = None, type: str | None = None, recordKey: str | None = None
    ) -> dict[str, Any]:
        items = [
            d.view()
            for d in dispatcher.log
            if (state is None or d.state == state)
            and (type is None or d.event["type"] == type)
            and (recordKey is None or d.event["recordKey"] == recordKey)
        ]
        return {"count": len(items), "pending": dispatcher.pending(), "deliveries": items}

    @r.delete("/webhooks/deliveries")
    async def clear_deliveries() -> dict[str, int]:
        n = len(dispatcher.log)
        dispatcher.reset()
        return {"cleared": n}

    @r.post("/webhooks/drain")
    async def drain(timeout_s: float = Query(30.0, alias="timeout", le=300)) -> dict[str, Any]:
        done = await dispatcher.drain(timeout_s)
        return {"drained": done, "pending": dispatcher.pending()}

    return r
