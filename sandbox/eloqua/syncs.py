"""Bulk API 2.0 syncs: an import's staged rows applied to the contacts, with rejects and logs."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from sandbox.eloqua.contacts import new_contact
from sandbox.eloqua.site import STATEMENT, Site, bulk_failure, iso, unix
from sandbox.vendor_common import valid_email


def start_sync(site: Site, uri: str, callback: str | None) -> dict[str, Any]:
    settings, st = site.settings, site.st
    imp = st.imports[int(uri.rsplit("/", 1)[1])]
    sid = st.next_id()
    st.syncs[sid] = {
        "syncedInstanceUri": uri,
        "callbackUrl": callback,
        "status": "pending",
        "createdAt": iso(),
        "createdBy": settings.username,
        "uri": f"/syncs/{sid}",
        "_rows": imp["staged"],
        "_polls": 0,
        "_final": None,
        "_rejects": [],
        "_logs": [],
    }
    imp["staged"], imp["posts"], imp["bytes"] = [], 0, 0
    return sync_view(st.syncs[sid])


def sync_view(s: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in s.items() if not k.startswith("_") and v is not None}


def advance(site: Site, s: dict[str, Any]) -> None:
    settings = site.settings
    if s["_final"] is not None:
        return
    s["_polls"] += 1
    if s["_polls"] <= settings.sync_pending_polls:
        s["status"] = "pending"
    elif s["_polls"] <= settings.sync_pending_polls + settings.sync_active_polls:
        s["status"] = "active"
        s.setdefault("syncStartedAt", iso())
    else:
        s.setdefault("syncStartedAt", iso())
        run_import(site, s)
        s["syncEndedAt"] = iso()
        s["status"] = s["_final"]


def run_import(site: Site, s: dict[str, Any]) -> None:
    settings, st = site.settings, site.st
    imp = st.imports.get(int(s["syncedInstanceUri"].rsplit("/", 1)[1]))
    rows: list[Any] = s.pop("_rows")
    if imp is None:
        s["_final"] = settings.error_status
        s["_logs"].append(("ELQ-00107", 1, "error", "The import definition no longer exists."))
        return
    defn = imp["def"]
    where = site.all_fields()
    mapping: dict[str, str] = {}  # row key -> attribute / custom:id / id
    for key, statement in defn["fields"].items():
        m = STATEMENT.match(statement)
        assert m is not None
        mapping[key] = "id" if m.group("id") else where[m.group("field")]
    ident = defn["identifierFieldName"]
    ident_target = mapping[ident]
    created = updated = 0
    reasons: dict[str, int] = {}
    seen: set[str] = set()
    by_key: dict[str, list[dict[str, Any]]] = {}
    if ident_target != "emailAddress":  # one pass, not one per row
        for c in sorted(st.contacts.values(), key=lambda c: c["id"]):
            v = str(c["id"]) if ident_target == "id" else _target_value(c, ident_target)
            if v is not None:
                by_key.setdefault(v, []).append(c)

    def reject(index: int, row: Any, code: str, message: str, invalid: list[str]) -> None:
        s["_rejects"].append(
            {
                "fieldValues": row if isinstance(row, dict) else {"row": row},
                "invalidFields": invalid,
                "message": message,
                "recordIndex": index,
                "statusCode": code,
            }
        )
        reasons[code] = reasons.get(code, 0) + 1

    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or any(isinstance(v, dict | list) for v in row.values()):
            reject(index, row, "ELQ-00032", "Malformed record.", [])
            continue
        values = {mapping[k]: v for k, v in row.items() if k in mapping}
        email_key = next((k for k, t in mapping.items() if t == "emailAddress"), None)
        email = values.get("emailAddress")
        if email not in (None, "") and not valid_email(email):
            reject(index, row, "ELQ-00002", f"Invalid email address: {email}", [email_key or ""])
            continue
        key = values.get(ident_target)
        if key in (None, ""):
            reject(index, row, "ELQ-00061", f"Missing value for {ident}.", [ident])
            continue
        norm = str(key).lower() if ident_target == "emailAddress" else str(key)
        if norm in seen:
            code = "ELQ-00011" if ident_target == "emailAddress" else "ELQ-00026"
            reject(index, row, code, f"Duplicate {ident} in the import: {key}", [ident])
            continue
        seen.add(norm)
        if ident_target == "emailAddress":
            matches = [st.contacts[i] for i in st.emails.find("emailAddress", norm)]
        else:
            matches = by_key.get(norm, [])
        if not matches:
            if email in (None, ""):
                reject(
                    index,
                    row,
                    "ELQ-00061",
                    "A new contact needs an email address.",
                    [email_key or "emailAddress"],
                )
                continue
            c = new_contact(site, {})
            _write(site, c, values, "always")
            created += 1
            continue
        targets = matches if defn["isUpdatingMultipleMatchedRecords"] else matches[:1]
        for c in targets:
            _write(site, c, values, defn["updateRule"])
        updated += 1
    total = len(rows)
    rejected = sum(reasons.values())
    logs = [("ELQ-00001", total, "information", "Total records processed.")]
    if created:
        logs.append(("ELQ-00004", created, "information", "Contacts created."))
    if updated:
        logs.append(("ELQ-00022", updated, "information", "Contacts updated."))
    names = {
        "ELQ-00002": "Invalid email addresses.",
        "ELQ-00011": "Duplicate email addresses.",
        "ELQ-00026": "Duplicate identifiers.",
        "ELQ-00032": "Malformed records.",
        "ELQ-00061": "Records with missing fields.",
    }
    for code, n in sorted(reasons.items()):
        logs.append((code, n, "warning", names[code]))
    if rejected:
        logs.append(("ELQ-00060", rejected, "warning", "Total records rejected."))
    s["_logs"] = logs
    s["_final"] = (
        settings.error_status if total and rejected == total else "warning" if rejected else "success"
    )


def _target_value(c: dict[str, Any], target: str) -> str | None:
    v = c["custom"].get(target[7:]) if target.startswith("custom:") else c.get(target)
    return None if v in (None, "") else str(v)


def _write(site: Site, c: dict[str, Any], values: dict[str, Any], rule: str) -> None:
    st = site.st
    st.emails.remove(c["id"], c)
    for target, v in values.items():
        if target == "id":
            continue
        cur = c["custom"].get(target[7:]) if target.startswith("custom:") else c.get(target)
        if rule == "ifNewIsNotNull" and v in (None, ""):
            continue
        if rule == "ifExistingIsNull" and cur not in (None, ""):
            continue
        if target.startswith("custom:"):
            c["custom"][target[7:]] = v
        else:
            c[target] = v
    c["updatedAt"] = unix()
    st.emails.add(c["id"], c)


def active_sync_for(site: Site, uri: str) -> bool:
    return any(s["syncedInstanceUri"] == uri and s["_final"] is None for s in site.st.syncs.values())


def router(site: Site) -> APIRouter:
    st = site.st
    r = APIRouter()

    async def create_sync(request: Request) -> Response:
        async def work() -> Response:
            body = await request.json()
            uri = body.get("syncedInstanceUri") if isinstance(body, dict) else None
            m = re.fullmatch(r"/contacts/imports/(\d+)", str(uri or ""))
            if not m or int(m.group(1)) not in st.imports:
                return bulk_failure("syncedInstanceUri", "Must reference an existing definition", uri)
            if active_sync_for(site, str(uri)):
                return bulk_failure(
                    "syncedInstanceUri", "A sync using this definition is still active", uri, status=409
                )
            return JSONResponse(start_sync(site, str(uri), body.get("callbackUrl")), status_code=201)

        return await site.guarded(request, work)

    async def syncs_list(request: Request) -> Response:
        async def work() -> Response:
            return site.bulk_page(request, [sync_view(s) for _, s in sorted(st.syncs.items())])

        return await site.guarded(request, work)

    async def sync_item(request: Request, sync_id: int) -> Response:
        async def work() -> Response:
            s = st.syncs.get(sync_id)
            if s is None:
                return PlainTextResponse("Not Found", status_code=404)
            advance(site, s)
            return JSONResponse(sync_view(s))

        return await site.guarded(request, work)

    async def sync_rejects(request: Request, sync_id: int) -> Response:
        async def work() -> Response:
            s = st.syncs.get(sync_id)
            if s is None:
                return PlainTextResponse("Not Found", status_code=404)
            return site.bulk_page(request, s["_rejects"])

        return await site.guarded(request, work)

    async def sync_logs(request: Request, sync_id: int) -> Response:
        async def work() -> Response:
            s = st.syncs.get(sync_id)
            if s is None:
                return PlainTextResponse("Not Found", status_code=404)
            items = [
                {
                    "count": n,
                    "createdAt": s.get("syncEndedAt", s["createdAt"]),
                    "message": msg,
                    "severity": sev,
                    "statusCode": code,
                    "syncUri": s["uri"],
                }
                for code, n, sev, msg in s["_logs"]
            ]
            return site.bulk_page(request, items)

        return await site.guarded(request, work)

    r.add_api_route("/api/bulk/2.0/syncs", create_sync, methods=["POST"])
    r.add_api_route("/api/bulk/2.0/syncs", syncs_list, methods=["GET"])
    r.add_api_route("/api/bulk/2.0/syncs/{sync_id}", sync_item, methods=["GET"])
    r.add_api_route("/api/bulk/2.0/syncs/{sync_id}/rejects", sync_rejects, methods=["GET"])
    r.add_api_route("/api/bulk/2.0/syncs/{sync_id}/logs", sync_logs, methods=["GET"])

    return r
