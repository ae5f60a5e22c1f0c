"""REST contacts: create, read, update, delete, and the filtered, paged list."""

from __future__ import annotations

import fnmatch
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from sandbox.eloqua.site import STANDARD_FIELDS, Site, param_error, unix, validation
from sandbox.vendor_common import valid_email


def contact_view(c: dict[str, Any], depth: str = "complete") -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "Contact",
        "id": str(c["id"]),
        "createdAt": str(c["createdAt"]),
        "updatedAt": str(c["updatedAt"]),
        "emailAddress": c.get("emailAddress"),
        "name": c.get("emailAddress"),
    }
    if depth == "minimal":
        return out
    for attr in STANDARD_FIELDS.values():
        if c.get(attr) is not None:
            out[attr] = c[attr]
    out["fieldValues"] = [
        {"type": "FieldValue", "id": fid, "value": c["custom"].get(fid)} for fid in sorted(c["custom"])
    ]
    return out


def apply_contact(site: Site, c: dict[str, Any], body: dict[str, Any]) -> None:
    site.st.emails.remove(c["id"], c)
    for attr in STANDARD_FIELDS.values():
        if attr in body:
            c[attr] = body[attr]
    for fv in body.get("fieldValues") or []:
        c["custom"][str(fv.get("id"))] = fv.get("value")
    c["updatedAt"] = unix()
    site.st.emails.add(c["id"], c)


def contact_errors(site: Site, body: Any, own_id: int | None) -> JSONResponse | None:
    if not isinstance(body, dict):
        return validation("body", "ObjectRequirement", body)
    email = body.get("emailAddress")
    if own_id is None and not email:
        return validation("emailAddress", "NotNullRequirement", email)
    if email is not None and not valid_email(email):
        return validation("emailAddress", "EmailAddressRequirement", email)
    if email and any(cid != own_id for cid in site.st.emails.find("emailAddress", email)):
        return validation("emailAddress", "UniquenessRequirement", email, status=409)
    for fv in body.get("fieldValues") or []:
        if str(fv.get("id")) not in site.custom_by_id():
            return validation("fieldValues", "ContactFieldRequirement", fv.get("id"))
    return None


def new_contact(site: Site, body: dict[str, Any]) -> dict[str, Any]:
    cid = site.st.next_id()
    now = unix()
    c: dict[str, Any] = {
        "id": cid,
        "createdAt": now,
        "updatedAt": now,
        "custom": {},
        "emailAddress": None,
    }
    apply_contact(site, c, body)
    site.st.contacts[cid] = c
    return c


def _stamp(value: str) -> float:
    value = value.strip("'\"")
    if re.fullmatch(r"\d+", value):
        return float(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=UTC).timestamp()


def search_filter(expr: str) -> Any:
    m = re.fullmatch(r"\s*(\w+)\s*(>=|<=|!=|=|>|<)\s*(.+?)\s*", expr)
    if not m:
        raise ValueError(expr)
    name, op, raw = m.groups()
    attr = {"lastUpdatedAt": "updatedAt", "lastupdatedat": "updatedAt"}.get(name, name)
    if attr in ("updatedAt", "createdAt", "id"):
        bound = _stamp(raw)

        def by_number(c: dict[str, Any]) -> bool:
            v = float(c[attr])
            return {
                "=": v == bound,
                "!=": v != bound,
                ">": v > bound,
                "<": v < bound,
                ">=": v >= bound,
                "<=": v <= bound,
            }[op]

        return by_number
    pattern = raw.strip("'\"").lower()

    def by_text(c: dict[str, Any]) -> bool:
        hit = fnmatch.fnmatch(str(c.get(attr) or "").lower(), pattern)
        return hit if op == "=" else not hit if op == "!=" else False

    return by_text


def router(site: Site) -> APIRouter:
    st = site.st
    r = APIRouter()

    async def create_contact(request: Request) -> Response:
        async def work() -> Response:
            body = await request.json()
            bad = contact_errors(site, body, None)
            if bad is not None:
                return bad
            return JSONResponse(contact_view(new_contact(site, body)), status_code=201)

        return await site.guarded(request, work)

    async def contact_item(request: Request, contact_id: int) -> Response:
        async def work() -> Response:
            c = st.contacts.get(contact_id)
            if c is None:
                return PlainTextResponse("Not Found", status_code=404)
            if request.method == "GET":
                return JSONResponse(contact_view(c, request.query_params.get("depth", "complete")))
            if request.method == "DELETE":
                st.emails.remove(contact_id, c)
                del st.contacts[contact_id]
                return Response(status_code=200)
            body = await request.json()
            bad = contact_errors(site, body, contact_id)
            if bad is not None:
                return bad
            apply_contact(site, c, body)
            return JSONResponse(contact_view(c))

        return await site.guarded(request, work)

    async def list_contacts(request: Request) -> Response:
        async def work() -> Response:
            q = request.query_params
            rows = list(st.contacts.values())
            if q.get("lastUpdatedAt"):
                try:
                    since = _stamp(q["lastUpdatedAt"])
                except ValueError:
                    return param_error("lastUpdatedAt", "DateTimeRequirement", q["lastUpdatedAt"])
                rows = [c for c in rows if c["updatedAt"] > since]
            if q.get("search"):
                try:
                    keep = search_filter(q["search"])
                except ValueError:
                    return param_error("search", "SearchRequirement", q["search"])
                rows = [c for c in rows if keep(c)]
            order = (q.get("orderBy") or "id").split()
            key = {"updatedAt": "updatedAt", "createdAt": "createdAt"}.get(order[0], "id")
            rows.sort(key=lambda c: (c[key], c["id"]), reverse=len(order) > 1 and order[1].upper() == "DESC")
            depth = q.get("depth", "minimal")
            return site.paged(request, [contact_view(c, depth) for c in rows])

        return await site.guarded(request, work)

    r.add_api_route("/api/rest/1.0/data/contact", create_contact, methods=["POST"])
    r.add_api_route("/api/rest/1.0/data/contact/{contact_id}", contact_item, methods=["GET", "PUT", "DELETE"])
    for v in ("1.0", "2.0"):
        r.add_api_route(f"/api/rest/{v}/data/contacts", list_contacts, methods=["GET"])

    return r
