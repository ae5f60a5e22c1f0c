"""Per-event catalog objects (statuses, attendee types, questions, custom properties, session
custom fields). Their `/{obj}/...` routes match anything, so this router is included last."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sandbox.platform.site import API, PlatformSite, body_obj, includes, read_json
from sandbox.platform.store import ApiError, Event, Store


def router(site: PlatformSite) -> APIRouter:
    store = site.store
    r = APIRouter(prefix=API)

    @r.get("/{obj}/{acct}/{event}")
    async def list_catalog(obj: str, acct: str, event: str, request: Request) -> Response:
        ev = _catalog_event(obj, acct, event)
        tags = "tags" in includes(request)
        if obj == "RegistrationStatus":
            items = store.status_views(store.account(acct), ev, tags)
            return site.envelope(request, items, "registrationStatuses", dict)
        names = {
            "AttendeeType": "attendeeTypes",
            "Question": "questions",
            "CustomProperty": "customProperties",
            "SessionCustomField": "customFields",
        }
        return site.envelope(request, store.catalog_views(obj, ev, tags), names[obj], dict)

    @r.get("/{obj}/{acct}/{event}/{key}")
    async def get_catalog(obj: str, acct: str, event: str, key: str, request: Request) -> dict[str, Any]:
        ev = _catalog_event(obj, acct, event)
        item = store.catalog_item(obj, ev, key)
        view = {k: v for k, v in item.items() if k != "tags"}
        if "tags" in includes(request):
            view["tags"] = store.tag_view(store.account(acct), item["tags"])
        return view

    @r.post("/{obj}/{acct}/{event}")
    async def create_catalog(obj: str, acct: str, event: str, request: Request) -> dict[str, Any]:
        ev = _catalog_event(obj, acct, event)
        item = store.upsert_catalog(obj, ev, body_obj(await read_json(request, obj), obj))
        return {**item, "tags": store.tag_view(store.account(acct), item["tags"])}

    @r.post("/{obj}/{acct}/{event}/{key}")
    async def update_catalog(obj: str, acct: str, event: str, key: str, request: Request) -> dict[str, Any]:
        ev = _catalog_event(obj, acct, event)
        item = store.upsert_catalog(obj, ev, body_obj(await read_json(request, obj), obj), key)
        return {**item, "tags": store.tag_view(store.account(acct), item["tags"])}

    def _catalog_event(obj: str, acct: str, event: str) -> Event:
        if obj not in Store.CATALOG:
            raise ApiError(404, f"unknown object {obj!r}")
        return store.event(acct, event)

    return r
