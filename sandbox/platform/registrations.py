"""Registrations (list with filters and ordering, read, create, update, delete), profiles, Bulk
Registration Upsert and the reassign-status mass action: the routes that carry the load."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from sandbox.platform.site import API, PlatformSite, body_obj, includes, read_json
from sandbox.platform.store import ApiError, Event, Store, parse_date


def _profile(s: Store, r: dict[str, Any]) -> dict[str, Any]:
    return s.accounts[s.events[r["eventId"]].account].profiles[r["profileId"]]


ORDER_FIELDS: dict[str, Callable[[Store, dict[str, Any]], Any]] = {
    "dateModified": lambda s, r: r["dateModified"],
    "statusModified": lambda s, r: r["statusModified"],
    "dateCreated": lambda s, r: r["dateCreated"],
    "registrationCode": lambda s, r: r["registrationCode"],
    "registrationStatusLabel": lambda s, r: r["registrationStatusLabel"],
    "pkRegId": lambda s, r: r["pkRegId"],
    "pkProfileId": lambda s, r: r["profileId"],
    "lastName": lambda s, r: _profile(s, r)["lastName"] or "",
    "firstName": lambda s, r: _profile(s, r)["firstName"] or "",
}
DATE_FILTERS = {
    "dateModified_after": ("dateModified", ">"),
    "dateModified_before": ("dateModified", "<"),
    "dateCreated_after": ("dateCreated", ">"),
    "dateCreated_before": ("dateCreated", "<"),
    "statusModified_after": ("statusModified", ">"),
}


def router(site: PlatformSite) -> APIRouter:
    store = site.store
    r = APIRouter(prefix=API)

    def select_registrations(request: Request, evs: list[Event]) -> list[dict[str, Any]]:
        q = request.query_params
        order = q.get("orderBy")
        key = None
        if order:
            fieldname, _, direction = order.rpartition("_")
            if fieldname not in ORDER_FIELDS or direction not in ("asc", "desc"):
                raise ApiError(
                    400,
                    f"orderBy {order!r}: use <field>_asc or <field>_desc with field in {sorted(ORDER_FIELDS)}",
                )
            key = ORDER_FIELDS[fieldname]
        out: list[dict[str, Any]] = []
        for ev in evs:
            # Each filter is one tight pass: this is the hot path of every list call.
            rows = list(ev.registrations.values())
            for name, (f, op) in DATE_FILTERS.items():
                if name in q:
                    v = parse_date(q[name], name)
                    rows = [g for g in rows if g[f] > v] if op == ">" else [g for g in rows if g[f] < v]
            if "isActive" in q:
                want = q["isActive"].lower() in ("true", "1", "yes")
                rows = [g for g in rows if g["isActive"] == want]
            if "registrationStatusLabel" in q:
                status = q["registrationStatusLabel"]
                rows = [g for g in rows if g["registrationStatusLabel"] == status]
            if "attendeeTypeCode" in q:
                att = q["attendeeTypeCode"]
                rows = [g for g in rows if g["attendeeTypeCode"] == att]
            if q.get("email"):
                email = q["email"].lower()
                profiles = store.accounts[ev.account].profiles
                rows = [g for g in rows if (profiles[g["profileId"]]["email"] or "").lower() == email]
            out += rows
        # Registrations are stored in pkRegId order within an event; across events, merge.
        if len(evs) > 1:
            out.sort(key=lambda g: g["pkRegId"])
        if key is not None:
            # stable, also in reverse, so pkRegId ascending breaks ties and pages stay stable
            k = key
            out.sort(key=lambda g: k(store, g), reverse=order.endswith("_desc"))  # type: ignore[union-attr]
        return out

    @r.get("/Registration/{acct}")
    async def list_account_registrations(acct: str, request: Request) -> Response:
        store.account(acct)
        inc = includes(request)
        evs = [e for e in store.events.values() if e.account == acct]
        rows = select_registrations(request, evs)
        view_any = lambda g: store.registration_view(store.events[g["eventId"]], g, inc)  # noqa: E731
        return site.envelope(request, rows, "registrations", view_any)

    @r.get("/Registration/{acct}/{event}")
    async def list_registrations(acct: str, event: str, request: Request) -> Response:
        ev = store.event(acct, event)
        inc = includes(request)
        rows = select_registrations(request, [ev])
        return site.envelope(request, rows, "registrations", lambda g: store.registration_view(ev, g, inc))

    @r.get("/Registration/{acct}/{event}/{code}")
    async def get_registration(acct: str, event: str, code: str, request: Request) -> dict[str, Any]:
        ev = store.event(acct, event)
        return store.registration_view(ev, store.registration(ev, code), includes(request))

    @r.post("/Registration/{acct}/{event}")
    async def create_registration(acct: str, event: str, request: Request) -> dict[str, Any]:
        ev = store.event(acct, event)
        ident = request.query_params.get("profileIdentifier")
        allowed = {"EMAIL", "PIN", "EXTERNAL", "SYNC_EMAIL", "SYNC_PIN", "SYNC_EXTERNAL"}
        if ident is not None and ident not in allowed:
            raise ApiError(400, f"profileIdentifier must be one of {sorted(allowed)}, got {ident!r}")
        dup = (request.query_params.get("allowduplicates") or "yes").lower() != "no"
        body = await read_json(request, "registration")
        reg = store.create_registration(ev, body, ident, dup)
        return store.registration_view(ev, reg, includes(request))

    @r.post("/Registration/{acct}/{event}/{code}")
    async def update_registration(acct: str, event: str, code: str, request: Request) -> dict[str, Any]:
        ev = store.event(acct, event)
        reg = store.update_registration(
            ev, store.registration(ev, code), await read_json(request, "registration")
        )
        return store.registration_view(ev, reg, includes(request))

    @r.get("/Profile/{acct}/{pin}")
    async def get_profile(acct: str, pin: str) -> Response:
        a = store.account(acct)
        p = store.profile_by_pin(a, pin)
        regs = [
            {"eventCode": ev.code, "eventId": ev.event_id, "registrationCode": g["registrationCode"]}
            for ev, g in store.profile_registrations(a, p["pkProfileId"])
        ]
        return JSONResponse({**p, "registrations": regs})

    @r.post("/Profile/{acct}/{pin}")
    async def update_profile(acct: str, pin: str, request: Request) -> Response:
        """A profile change shows in every registration of the profile, so each of them is
        touched (new dateModified, one registration.updated event); a write that changes no
        field touches nothing."""
        a = store.account(acct)
        p = store.profile_by_pin(a, pin)
        fields = store._check_profile(await read_json(request, "profile"), "profile")
        before = dict(p)
        store.update_profile(a, p, fields, "profile")
        if p != before:
            for ev, g in store.profile_registrations(a, p["pkProfileId"]):
                store.touch(ev, g, g["registrationStatusLabel"])
        return JSONResponse(p)

    @r.delete("/Registration/{acct}/{event}/{code}")
    async def delete_registration(acct: str, event: str, code: str) -> dict[str, Any]:
        ev = store.event(acct, event)
        reg = store.registration(ev, code)
        del ev.registrations[code]
        ev.reg_by_profile.pop(reg["profileId"], None)
        return {"deleted": code}

    @r.post("/BulkRegistration/{acct}/{event}")
    async def bulk_upsert(acct: str, event: str, request: Request) -> dict[str, Any]:
        ev = store.event(acct, event)
        body = body_obj(await read_json(request, "bulk registration upsert"), "bulk registration upsert")
        match_by = body.get("matchBy") or request.query_params.get("matchBy") or "email"
        if match_by not in ("email", "externalKey", "pin"):
            raise ApiError(400, f"matchBy must be 'email', 'externalKey' or 'pin', got {match_by!r}")
        records = body.get("registrations")
        if not isinstance(records, list):
            raise ApiError(400, "bulk registration upsert: 'registrations' must be a list")
        if len(records) > site.bulk_max_records:
            raise ApiError(
                400, f"bulk registration upsert: {len(records)} records, at most {site.bulk_max_records}"
            )
        acct_obj = store.account(acct)
        results = []
        counts = {"created": 0, "updated": 0, "failed": 0}
        for i, rec in enumerate(records):
            where = f"registrations[{i}]"
            try:
                if not isinstance(rec, dict):
                    raise ApiError(400, f"{where}: must be an object")
                raw_prof = rec.get("profile")
                prof: dict[str, Any] = raw_prof if isinstance(raw_prof, dict) else {}
                key = prof.get(match_by)
                if not key:
                    results.append(
                        {
                            "index": i,
                            "status": "failed",
                            "errors": [
                                {
                                    "code": "MISSING_MATCH_KEY",
                                    "message": f"{where}: profile.{match_by} is required",
                                }
                            ],
                        }
                    )
                    counts["failed"] += 1
                    continue
                profile = store.match_profile(acct_obj, match_by, prof)
                code = ev.reg_by_profile.get(profile["pkProfileId"]) if profile else None
                if code is not None:
                    reg = store.update_registration(ev, ev.registrations[code], rec, where=where)
                    status = "updated"
                else:
                    ident = {"email": "SYNC_EMAIL", "pin": "SYNC_PIN", "externalKey": "SYNC_EXTERNAL"}[
                        match_by
                    ]
                    reg = store.create_registration(ev, rec, ident, False, where=where)
                    status = "created"
                counts[status] += 1
                results.append(
                    {
                        "index": i,
                        "status": status,
                        "registrationCode": reg["registrationCode"],
                        "pkRegId": reg["pkRegId"],
                        "errors": [],
                    }
                )
            except ApiError as exc:
                counts["failed"] += 1
                results.append(
                    {"index": i, "status": "failed", "errors": [{"code": "INVALID", "message": exc.message}]}
                )
        return {"matchBy": match_by, **counts, "results": results}

    @r.post("/MassAction/{acct}/{event}/reassignStatus")
    async def reassign_status(acct: str, event: str, request: Request) -> dict[str, Any]:
        """Re-sets the status of the selected registrations (to ``statusLabel``, or to the
        status each already has) and touches their dateModified, as the UI mass action does."""
        ev = store.event(acct, event)
        body = body_obj(await read_json(request, "reassignStatus"), "reassignStatus")
        codes = body.get("registrationCodes")
        from_status = body.get("fromStatusLabel")
        to_status = body.get("statusLabel")
        if to_status is not None and store.status_info(ev, to_status) is None:
            raise ApiError(
                400, f"reassignStatus: statusLabel {to_status!r} is not a status of event {event!r}"
            )
        if codes is None:
            regs = list(ev.registrations.values())
        elif isinstance(codes, list):
            missing = [c for c in codes if c not in ev.registrations]
            if missing:
                raise ApiError(400, f"reassignStatus: unknown registrationCodes {missing[:10]}")
            regs = [ev.registrations[c] for c in codes]
        else:
            raise ApiError(400, "reassignStatus: 'registrationCodes' must be a list or absent (= all)")
        if from_status is not None:
            regs = [g for g in regs if g["registrationStatusLabel"] == from_status]
        for reg in regs:
            before = reg["registrationStatusLabel"]
            if to_status is not None:
                reg["registrationStatusLabel"] = to_status
            store.touch(ev, reg, before)
        return {"affected": len(regs), "registrationCodes": [g["registrationCode"] for g in regs]}

    return r
