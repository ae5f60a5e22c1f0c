"""Bulk API 2.0: contact fields, import definitions and their staged data."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from sandbox.eloqua.site import STATEMENT, Site, bulk_failure, iso
from sandbox.eloqua.syncs import active_sync_for, start_sync


def router(site: Site) -> APIRouter:
    settings, st = site.settings, site.st
    r = APIRouter()

    async def contact_fields(request: Request) -> Response:
        async def work() -> Response:
            items = [
                {
                    "name": n,
                    "internalName": n,
                    "statement": f"{{{{Contact.Field({n})}}}}",
                    "uri": f"/contacts/fields/{i}",
                }
                for i, n in enumerate(site.all_fields(), start=1)
            ]
            return site.bulk_page(request, items)

        return await site.guarded(request, work)

    async def create_import(request: Request) -> Response:
        async def work() -> Response:
            body = await request.json()
            if not isinstance(body, dict) or not body.get("name"):
                return bulk_failure("name", "Is required")
            fields = body.get("fields")
            if not isinstance(fields, dict) or not fields:
                return bulk_failure("fields", "Must contain at least 1 item", fields)
            if len(fields) > settings.max_import_fields:
                return bulk_failure(
                    "fields", f"Must contain at most {settings.max_import_fields} items", len(fields)
                )
            for key, statement in fields.items():
                m = STATEMENT.match(str(statement))
                if not m or (m.group("field") and m.group("field") not in site.all_fields()):
                    return bulk_failure(f"fields.{key}", "Must be a valid contact field statement", statement)
            ident = body.get("identifierFieldName")
            if ident not in fields:
                return bulk_failure(
                    "identifierFieldName",
                    "ELQ-00112: identifierFieldName must be one of the keys of fields",
                    ident,
                )
            rule = body.get("updateRule", "always")
            if rule not in ("always", "ifNewIsNotNull", "ifExistingIsNull", "useFieldRule"):
                return bulk_failure(
                    "updateRule",
                    "Must be one of always, ifNewIsNotNull, ifExistingIsNull, useFieldRule",
                    rule,
                )
            iid = st.next_id()
            now = iso()
            defn = {
                "name": body["name"],
                "fields": fields,
                "identifierFieldName": ident,
                "isSyncTriggeredOnImport": bool(body.get("isSyncTriggeredOnImport", False)),
                "isUpdatingMultipleMatchedRecords": bool(body.get("isUpdatingMultipleMatchedRecords", False)),
                "updateRule": rule,
                "syncActions": body.get("syncActions", []),
                "dataRetentionDuration": body.get("dataRetentionDuration", "P7D"),
                "uri": f"/contacts/imports/{iid}",
                "createdBy": settings.username,
                "createdAt": now,
                "updatedBy": settings.username,
                "updatedAt": now,
            }
            st.imports[iid] = {"def": defn, "staged": [], "posts": 0, "bytes": 0}
            return JSONResponse(defn, status_code=201)

        return await site.guarded(request, work)

    async def imports_list(request: Request) -> Response:
        async def work() -> Response:
            return site.bulk_page(request, [i["def"] for _, i in sorted(st.imports.items())])

        return await site.guarded(request, work)

    async def import_item(request: Request, import_id: int) -> Response:
        async def work() -> Response:
            imp = st.imports.get(import_id)
            if imp is None:
                return PlainTextResponse("Not Found", status_code=404)
            if request.method == "DELETE":
                del st.imports[import_id]
                return Response(status_code=204)
            return JSONResponse(imp["def"])

        return await site.guarded(request, work)

    async def import_data(request: Request, import_id: int) -> Response:
        async def work() -> Response:
            imp = st.imports.get(import_id)
            raw = await request.body()
            if imp is None or len(raw) > settings.max_import_post_bytes:
                if imp is not None:
                    st.count("404_import_too_large")
                return PlainTextResponse("Not Found", status_code=404)
            if active_sync_for(site, imp["def"]["uri"]):
                return bulk_failure(
                    "syncedInstanceUri", "A sync using this definition is still active", status=409
                )
            if imp["posts"] >= settings.max_data_posts_per_sync:
                return PlainTextResponse("There was a validation error", status_code=400)
            staged_total = sum(i["bytes"] for i in st.imports.values())
            if staged_total + len(raw) > settings.staging_capacity_bytes:
                st.count("413_storage")
                return PlainTextResponse("Storage space exceeded", status_code=413)
            ctype = request.headers.get("content-type", "")
            try:
                if "csv" in ctype:
                    rows: list[Any] = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
                else:
                    rows = json.loads(raw)
                    if not isinstance(rows, list):
                        raise ValueError("not an array")
            except (ValueError, UnicodeDecodeError):
                return bulk_failure("data", "Must be a JSON array of objects or UTF-8 CSV")
            imp["staged"].extend(rows)
            imp["posts"] += 1
            imp["bytes"] += len(raw)
            if imp["def"]["isSyncTriggeredOnImport"]:
                return JSONResponse(start_sync(site, imp["def"]["uri"], None), status_code=201)
            return Response(status_code=204)

        return await site.guarded(request, work)

    async def clear_staged(request: Request, import_id: int) -> Response:
        async def work() -> Response:
            imp = st.imports.get(import_id)
            if imp is None:
                return PlainTextResponse("Not Found", status_code=404)
            imp["staged"], imp["posts"], imp["bytes"] = [], 0, 0
            return Response(status_code=204)

        return await site.guarded(request, work)

    r.add_api_route("/api/bulk/2.0/contacts/imports/{import_id}/data", clear_staged, methods=["DELETE"])
    r.add_api_route("/api/bulk/2.0/contacts/fields", contact_fields, methods=["GET"])
    r.add_api_route("/api/bulk/2.0/contacts/imports", create_import, methods=["POST"])
    r.add_api_route("/api/bulk/2.0/contacts/imports", imports_list, methods=["GET"])
    r.add_api_route("/api/bulk/2.0/contacts/imports/{import_id}", import_item, methods=["GET", "DELETE"])
    r.add_api_route("/api/bulk/2.0/contacts/imports/{import_id}/data", import_data, methods=["POST"])

    return r
