"""The account, its tags and its account-level (standard) registration statuses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sandbox.platform.site import API, PlatformSite, body_obj, includes, read_json
from sandbox.platform.store import STANDARD_STATUSES, ApiError


def router(site: PlatformSite) -> APIRouter:
    store = site.store
    r = APIRouter(prefix=API)

    @r.get("/Account/{acct}")
    async def get_account(acct: str) -> dict[str, Any]:
        a = store.account(acct)
        events = sorted((e for e in store.events.values() if e.account == acct), key=lambda e: e.event_id)
        return {"accountCode": a.code, "name": a.name, "eventCount": len(events)}

    @r.get("/Tag/{acct}")
    async def list_tags(acct: str, request: Request) -> Response:
        a = store.account(acct)
        obj = request.query_params.get("object")
        tags = [t for t in a.tags.values() if obj is None or obj in t["objects"]]
        return site.envelope(request, tags, "tags", dict)

    @r.post("/Tag/{acct}")
    async def create_tag(acct: str, request: Request) -> dict[str, Any]:
        return store.create_tag(store.account(acct), body_obj(await read_json(request, "tag"), "tag"))

    @r.get("/AccountRegistrationStatus/{acct}")
    async def account_statuses(acct: str, request: Request) -> Response:
        a = store.account(acct)
        return site.envelope(
            request, store.status_views(a, None, "tags" in includes(request)), "registrationStatuses", dict
        )

    @r.post("/AccountRegistrationStatus/{acct}/{label}")
    async def tag_standard_status(acct: str, label: str, request: Request) -> dict[str, Any]:
        a = store.account(acct)
        if label not in {s for s, _ in STANDARD_STATUSES}:
            raise ApiError(404, f"{label!r} is not a standard registration status")
        body = body_obj(await read_json(request, "status"), "status")
        a.standard_status_tags[label] = store.check_tags(
            a, body.get("tags", []), "RegistrationStatus", f"status {label!r}"
        )
        return next(s for s in store.status_views(a, None, True) if s["label"] == label)

    return r
