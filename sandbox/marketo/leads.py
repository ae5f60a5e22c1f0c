"""Leads: Sync Leads (create, update, dedupe by lookup field, partitions) and filter reads."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.marketo.site import Reject, Site, fail, norm, now_iso, ok, request_id, skipped
from sandbox.vendor_common import valid_email


def router(site: Site) -> APIRouter:
    settings, st = site.settings, site.st
    r = APIRouter()

    def _lead_view(lead: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
        names = fields or ["id", "email", "firstName", "lastName", "updatedAt", "createdAt"]
        return {k: lead.get(k) for k in names}

    async def filter_read(params: dict[str, str]) -> JSONResponse:
        ftype = params.get("filterType")
        if not ftype:
            return fail("1002", "Missing value for the required parameter 'filterType'")
        allowed = {"id", *settings.dedupe_fields, *settings.searchable_fields}
        if ftype not in allowed:
            return fail("1011", f"Field '{ftype}' not supported")
        values = [v for v in (params.get("filterValues") or "").split(",") if v != ""]
        if not values:
            return fail("1002", "Missing value for the required parameter 'filterValues'")
        if len(values) > settings.max_batch:
            return fail("1003", f"Invalid data: more than {settings.max_batch} filterValues")
        fields = [f for f in (params.get("fields") or "").split(",") if f] or None
        unknown = [f for f in fields or [] if f not in site.known_fields() | {"createdAt", "updatedAt"}]
        if unknown:
            return fail("1006", f"Field '{unknown[0]}' not found")
        if ftype == "id":
            ids = {int(v) for v in values if v.isdigit() and int(v) in st.leads}
        elif st.index is not None and st.index.covers(ftype):
            ids = {i for v in values for i in st.index.find(ftype, v)}
        else:
            wanted = {norm(ftype, v) for v in values}
            ids = {i for i, lead in st.leads.items() if norm(ftype, lead.get(ftype)) in wanted}
        return site.page([_lead_view(st.leads[i], fields) for i in sorted(ids)], params)

    async def leads_get(request: Request) -> Response:
        async def work(_: bytes) -> Response:
            if not request.query_params.get("filterType"):
                return fail("605", "HTTP Method not supported")
            return await filter_read(dict(request.query_params))

        return await site.guarded(request, work)

    async def leads_post(request: Request) -> Response:
        async def work(body: bytes) -> Response:
            if request.query_params.get("_method", "").upper() == "GET":
                params = dict(request.query_params)
                params.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
                return await filter_read(params)
            try:
                payload = site.json_body(request, body)
            except Reject as r:
                return fail(r.code, r.message)
            return sync_leads(payload)

        return await site.guarded(request, work, check_size=True)

    def sync_leads(payload: Any) -> JSONResponse:
        if not isinstance(payload, dict) or not isinstance(payload.get("input"), list):
            return fail("1002", "Missing value for the required parameter 'input'")
        records: list[Any] = payload["input"]
        if not records:
            return fail("1003", "Invalid data: input is empty")
        if len(records) > settings.max_batch:
            return fail(
                "1003", f"Invalid data: input has {len(records)} records, the limit is {settings.max_batch}"
            )
        action = payload.get("action") or "createOrUpdate"
        if action not in ("createOrUpdate", "createOnly", "updateOnly", "createDuplicate"):
            return fail("1003", f"Invalid action '{action}'")
        lookup = payload.get("lookupField") or "email"
        if lookup == "id" and action != "updateOnly":
            return fail("1003", "Invalid data: lookupField 'id' is only allowed with updateOnly")
        if lookup not in {"id", *settings.dedupe_fields}:
            return fail("1011", f"Field '{lookup}' not supported")
        partition = payload.get("partitionName") or settings.partitions[0]
        if partition not in settings.partitions:
            return JSONResponse(
                {
                    "requestId": request_id(),
                    "success": True,
                    "result": [skipped("1008", f"Access denied to partition '{partition}'") for _ in records],
                }
            )
        known = site.known_fields()
        seen: set[str] = set()
        results: list[dict[str, Any]] = []
        for rec in records:
            results.append(_sync_one(rec, action, lookup, partition, known, seen))
        return ok(results)

    def _sync_one(
        rec: Any, action: str, lookup: str, partition: str, known: set[str], seen: set[str]
    ) -> dict[str, Any]:
        if not isinstance(rec, dict):
            return skipped("1003", "Invalid data: a record must be an object")
        for name in rec:
            if name not in known:
                return skipped("1006", f"Field '{name}' not found")
        if "email" in rec and rec["email"] not in (None, "") and not valid_email(rec["email"]):
            return skipped("1003", f"Invalid email address '{rec['email']}'")
        if "id" in rec and action != "updateOnly":
            return skipped("1003", "Invalid data: id is only allowed with updateOnly")
        key = rec.get(lookup)
        if action != "createDuplicate":
            if key in (None, ""):
                return skipped("1003", f"Invalid data: lookup field '{lookup}' is missing")
            marker = str(key).lower() if lookup == "email" else str(key)
            if marker in seen:
                return skipped("1036", "Duplicate object in input")
            seen.add(marker)
        matches = [] if action == "createDuplicate" else _match(lookup, key)
        if len(matches) > 1:
            return skipped("1007", "Multiple leads match the lookup criteria")
        if matches:
            lead = st.leads[matches[0]]
            if action == "createOnly":
                return skipped("1005", "Lead already exists", id=matches[0])
            if lead["_partition"] != partition:
                return skipped("1010", "Partition update not allowed", id=matches[0])
            changes = {k: v for k, v in rec.items() if k != "id" and lead.get(k) != v}
            for k, v in changes.items():
                site.activity(matches[0], 13, fields=[{"name": k, "newValue": v, "oldValue": lead.get(k)}])
            assert st.index is not None
            st.index.remove(matches[0], lead)
            lead.update({k: v for k, v in rec.items() if k != "id"})
            lead["updatedAt"] = now_iso()
            st.index.add(matches[0], lead)
            return {"id": matches[0], "status": "updated"}
        if action == "updateOnly":
            return skipped("1004", "Lead not found")
        lid = st.next_lead_id
        st.next_lead_id += 1
        now = now_iso()
        st.leads[lid] = {**rec, "id": lid, "createdAt": now, "updatedAt": now, "_partition": partition}
        assert st.index is not None
        st.index.add(lid, st.leads[lid])
        site.activity(lid, 12)
        return {"id": lid, "status": "created"}

    def _match(lookup: str, key: Any) -> list[int]:
        if lookup == "id":
            try:
                return [int(key)] if int(key) in st.leads else []
            except (TypeError, ValueError):
                return []
        if st.index is not None and st.index.covers(lookup):
            return st.index.find(lookup, key)
        return [i for i, lead in st.leads.items() if norm(lookup, lead.get(lookup)) == norm(lookup, key)]

    r.add_api_route("/rest/v1/leads.json", leads_get, methods=["GET"])
    r.add_api_route("/rest/v1/leads.json", leads_post, methods=["POST"])

    return r
