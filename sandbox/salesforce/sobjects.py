"""Single sObject create and read (Campaign, CampaignMember and friends)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.salesforce.site import Site, err


def router(site: Site) -> APIRouter:
    settings = site.settings
    r = APIRouter()

    async def create_one(request: Request, version: str, sobject: str) -> Response:
        async def work() -> Response:
            if sobject not in settings.schema:
                return err(404, "NOT_FOUND", "The requested resource does not exist")
            body = await request.json()
            unknown = [k for k in body if k != "attributes" and k not in settings.schema[sobject]["fields"]]
            if unknown:
                return err(
                    400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {sobject}"
                )
            fields = {k: v for k, v in body.items() if k != "attributes"}
            errs = site.record_errors(sobject, fields, None)
            if errs:
                return JSONResponse(
                    [
                        {"message": e["message"], "errorCode": e["statusCode"], "fields": e["fields"]}
                        for e in errs
                    ],
                    status_code=400,
                )
            rid = site.new_id(sobject)
            site.stamp(sobject, rid, fields, True)
            return JSONResponse({"id": rid, "success": True, "errors": []}, status_code=201)

        return await site.guarded(request, version, work)

    async def get_one(request: Request, version: str, sobject: str, rid: str) -> Response:
        async def work() -> Response:
            rec = site.table(sobject).get(rid)
            if rec is None:
                return err(404, "NOT_FOUND", "The requested resource does not exist")
            return JSONResponse(
                {
                    "attributes": {
                        "type": sobject,
                        "url": f"/services/data/{version}/sobjects/{sobject}/{rid}",
                    },
                    **rec,
                }
            )

        return await site.guarded(request, version, work)

    r.add_api_route("/services/data/{version}/sobjects/{sobject}", create_one, methods=["POST"])
    r.add_api_route("/services/data/{version}/sobjects/{sobject}/{rid}", get_one, methods=["GET"])

    return r
