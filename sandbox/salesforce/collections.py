"""sObject Collections upsert by external ID (<= 200 records, `allOrNone` rollback,
UpsertResult[] in input order)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.salesforce.site import Site, err


def router(site: Site) -> APIRouter:
    settings, st = site.settings, site.st
    r = APIRouter()

    async def collections_upsert(request: Request, version: str, sobject: str, ext_field: str) -> Response:
        async def work() -> Response:
            if sobject not in settings.schema:
                return err(404, "NOT_FOUND", "The requested resource does not exist")
            if ext_field not in settings.schema[sobject]["external_ids"]:
                return err(
                    404,
                    "NOT_FOUND",
                    f"Provided external ID field does not exist or is not accessible: {ext_field}",
                )
            try:
                body = await request.json()
            except ValueError:
                return err(400, "JSON_PARSER_ERROR", "Unexpected character in request body")
            records = body.get("records") if isinstance(body, dict) else None
            if not isinstance(records, list) or not records:
                return err(400, "INVALID_FIELD", "records: a non-empty array is required")
            if len(records) > settings.max_collection:
                return err(
                    400,
                    "EXCEEDED_ID_LIMIT",
                    f"record limit reached. cannot submit more than {settings.max_collection} records into this call",
                )
            all_or_none = bool(body.get("allOrNone", False))
            known = set(settings.schema[sobject]["fields"])
            for n, rec in enumerate(records):
                if not isinstance(rec, dict) or (rec.get("attributes") or {}).get("type") != sobject:
                    return err(400, "INVALID_TYPE", f"records[{n}]: attributes.type must be {sobject}")
                if "Id" in rec:
                    return err(
                        400, "INVALID_FIELD", f"records[{n}]: Id is not allowed in an upsert by external ID"
                    )
                for name in rec:
                    if name != "attributes" and name not in known:
                        return err(
                            400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}"
                        )
            values = [r.get(ext_field) for r in records]
            plan: list[tuple[str, str | None, dict[str, Any], list[dict[str, Any]]]] = []
            for rec, value in zip(records, values, strict=True):
                fields = {k: v for k, v in rec.items() if k != "attributes"}
                errs: list[dict[str, Any]] = []
                matches: list[str] = []
                if value not in (None, ""):
                    if values.count(value) > 1:
                        errs.append(
                            {
                                "statusCode": "DUPLICATE_EXTERNAL_ID",
                                "message": f"Duplicate external id specified: {value}",
                                "fields": [ext_field],
                            }
                        )
                    elif (sobject, str(value)) in st.locked:
                        errs.append(
                            {
                                "statusCode": "UNABLE_TO_LOCK_ROW",
                                "message": "unable to obtain exclusive access to this record",
                                "fields": [],
                            }
                        )
                    matches = site.index(sobject).find(ext_field, value)
                    if len(matches) > 1:
                        errs.append(
                            {
                                "statusCode": "DUPLICATE_EXTERNAL_ID",
                                "message": f"{ext_field}: more than one record found for external id field: {matches}",
                                "fields": [ext_field],
                            }
                        )
                existing = site.table(sobject)[matches[0]] if len(matches) == 1 else None
                if not errs:
                    errs = site.record_errors(sobject, fields, existing)
                plan.append(
                    ("update" if existing else "create", matches[0] if existing else None, fields, errs)
                )
            failed = any(p[3] for p in plan)
            results: list[dict[str, Any]] = []
            if all_or_none and failed:
                for _kind, _rid, _fields, errs in plan:
                    errs = errs or [
                        {
                            "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                            "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
                            "fields": [],
                        }
                    ]
                    results.append({"id": None, "success": False, "errors": errs, "created": False})
                st.count("all_or_none_rollbacks")
                return JSONResponse(results)
            for kind, rid, fields, errs in plan:
                if errs:
                    results.append({"id": None, "success": False, "errors": errs, "created": False})
                    continue
                rid = rid or site.new_id(sobject)
                site.stamp(sobject, rid, fields, kind == "create")
                results.append({"id": rid, "success": True, "errors": [], "created": kind == "create"})
            return JSONResponse(results)

        return await site.guarded(request, version, work)

    r.add_api_route(
        "/services/data/{version}/composite/sobjects/{sobject}/{ext_field}",
        collections_upsert,
        methods=["PATCH"],
    )

    return r
