"""Contacts: batch upsert by a unique `idProperty`, list paging with `paging.next.after`, read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.hubspot.site import Site, error, iso, norm
from sandbox.vendor_common import valid_email


def router(site: Site) -> APIRouter:
    settings, st = site.settings, site.st
    r = APIRouter()

    # ---------------------------------------------------------------- batch upsert
    async def batch_upsert(request: Request) -> Response:
        async def work() -> Response:
            try:
                body = await request.json()
            except ValueError:
                return error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
            inputs = body.get("inputs") if isinstance(body, dict) else None
            if not isinstance(inputs, list) or not inputs:
                return error(400, "VALIDATION_ERROR", "Invalid input: 'inputs' must be a non-empty array")
            if len(inputs) > settings.max_batch:
                return error(
                    400,
                    "VALIDATION_ERROR",
                    f"Batch input size {len(inputs)} exceeds the maximum of {settings.max_batch}",
                    context={"maxInputs": [str(settings.max_batch)]},
                )
            keys: list[tuple[str, str]] = []
            for n, item in enumerate(inputs):
                if not isinstance(item, dict) or not item.get("idProperty") or item.get("id") in (None, ""):
                    return error(400, "VALIDATION_ERROR", f"inputs[{n}]: 'idProperty' and 'id' are required")
                if item["idProperty"] not in settings.unique_properties:
                    return error(
                        400,
                        "VALIDATION_ERROR",
                        f"inputs[{n}]: idProperty '{item['idProperty']}' is not a unique-value property",
                    )
                keys.append((item["idProperty"], norm(item["idProperty"], item["id"])))
            dups = sorted({k[1] for k in keys if keys.count(k) > 1})
            if dups:
                return error(400, "VALIDATION_ERROR", f"Duplicate IDs found in batch input: {dups}")
            started = iso()
            results, errors = [], []
            for item in inputs:
                res, err = _upsert_one(item)
                if res is not None:
                    results.append(res)
                if err is not None:
                    errors.append(err)
            if settings.shuffle_results:
                site.rng.shuffle(results)
            out: dict[str, Any] = {
                "status": "COMPLETE",
                "results": results,
                "requestedAt": started,
                "startedAt": started,
                "completedAt": iso(),
                "links": {},
            }
            if errors:
                out["errors"] = errors
                out["numErrors"] = len(errors)
            return JSONResponse(out, status_code=settings.partial_failure_status if errors else 200)

        return await site.guarded(request, work)

    def _upsert_one(item: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        prop, key = item["idProperty"], item["id"]
        props = dict(item.get("properties") or {})
        trace = item.get("objectWriteTraceId")
        ctx: dict[str, Any] = {"ids": [str(key)]}
        if trace:
            ctx["objectWriteTraceId"] = [trace]
        unknown = [p for p in props if p not in site.known()]
        if unknown:
            return None, {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": f"Property values were not valid: {unknown}",
                "errors": [
                    {
                        "message": f'Property "{p}" does not exist',
                        "code": "PROPERTY_DOESNT_EXIST",
                        "context": {"propertyName": [p]},
                    }
                    for p in unknown
                ],
                "context": ctx,
            }
        if prop == "email":
            props.setdefault("email", key)
        email = props.get("email")
        if email not in (None, "") and not valid_email(email):
            return None, {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": f"Property values were not valid: Email address {email} is invalid",
                "errors": [
                    {
                        "message": f"Email address {email} is invalid",
                        "code": "INVALID_EMAIL",
                        "context": {"propertyName": ["email"]},
                    }
                ],
                "context": ctx,
            }
        assert st.index is not None
        if st.index.covers(prop):
            found = st.index.find(prop, key)
        else:
            found = [
                i
                for i, c in st.contacts.items()
                if norm(prop, c["properties"].get(prop, "")) == norm(prop, key)
            ]
        match = found[0] if found else None
        now = iso()
        created = match is None
        if match is None:
            match = st.next_id
            st.next_id += 1
            st.contacts[match] = {"properties": {prop: key}, "createdAt": now, "updatedAt": now}
        else:
            st.index.remove(match, st.contacts[match]["properties"])
        st.contacts[match]["properties"].update(props)
        st.contacts[match]["updatedAt"] = now
        st.index.add(match, st.contacts[match]["properties"])
        res = site.view(match, sorted(st.contacts[match]["properties"]))
        res["new"] = created
        if trace:
            res["objectWriteTraceId"] = trace
        return res, None

    for path in ("/crm/v3/objects/contacts/batch/upsert", "/crm/objects/2026-03/contacts/batch/upsert"):
        r.add_api_route(path, batch_upsert, methods=["POST"])

    # ---------------------------------------------------------------- reads
    async def list_contacts(request: Request) -> Response:
        async def work() -> Response:
            q = request.query_params
            try:
                limit = int(q.get("limit", "10"))
                after = int(q.get("after", "0"))
            except ValueError:
                return error(400, "VALIDATION_ERROR", "limit and after must be integers")
            if not 1 <= limit <= settings.max_page_size:
                return error(400, "VALIDATION_ERROR", f"limit must be between 1 and {settings.max_page_size}")
            props = [p for p in q.get("properties", "").split(",") if p] or None
            ids = [cid for cid in sorted(st.contacts) if cid > after]
            page = ids[:limit]
            out: dict[str, Any] = {"results": [site.view(cid, props) for cid in page]}
            if len(ids) > limit:
                nxt = str(page[-1])
                link = str(request.url.include_query_params(after=nxt))
                out["paging"] = {"next": {"after": nxt, "link": link}}
            return JSONResponse(out)

        return await site.guarded(request, work)

    async def get_contact(request: Request, contact_id: str) -> Response:
        async def work() -> Response:
            id_prop = request.query_params.get("idProperty")
            props = [p for p in request.query_params.get("properties", "").split(",") if p] or None
            if id_prop:
                cid = next(
                    (
                        i
                        for i, c in st.contacts.items()
                        if norm(id_prop, c["properties"].get(id_prop, "")) == norm(id_prop, contact_id)
                    ),
                    None,
                )
            else:
                cid = int(contact_id) if contact_id.isdigit() and int(contact_id) in st.contacts else None
            if cid is None:
                return error(404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.")
            return JSONResponse(site.view(cid, props))

        return await site.guarded(request, work)

    r.add_api_route("/crm/v3/objects/contacts", list_contacts, methods=["GET"])
    r.add_api_route("/crm/v3/objects/contacts/{contact_id}", get_contact, methods=["GET"])

    return r
