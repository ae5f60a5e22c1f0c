"""REST external activities (an external asset type's activity on a contact) and form submissions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from sandbox.eloqua.contacts import apply_contact, new_contact
from sandbox.eloqua.site import STANDARD_FIELDS, Site, unix, validation
from sandbox.vendor_common import valid_email


def router(site: Site) -> APIRouter:
    settings, st = site.settings, site.st
    r = APIRouter()

    async def create_activity(request: Request) -> Response:
        async def work() -> Response:
            body = await request.json()
            for name in ("contactId", "campaignId", "assetType", "assetName", "activityType"):
                if not isinstance(body, dict) or body.get(name) in (None, ""):
                    return validation(name, "NotNullRequirement", None, "Activity")
            if not str(body["contactId"]).isdigit() or int(body["contactId"]) not in st.contacts:
                return validation("contactId", "ContactRequirement", body["contactId"], "Activity")
            kinds = settings.external_asset_types.get(body["assetType"])
            if kinds is None:
                return validation("assetType", "ExternalAssetTypeRequirement", body["assetType"], "Activity")
            if body["activityType"] not in kinds:
                return validation(
                    "activityType", "ExternalActivityTypeRequirement", body["activityType"], "Activity"
                )
            aid = st.next_id()
            act = {
                **body,
                "type": "Activity",
                "id": str(aid),
                "activityDate": str(body.get("activityDate") or unix()),
            }
            st.activities[aid] = act
            return JSONResponse(act, status_code=201)

        return await site.guarded(request, work)

    async def get_activity(request: Request, activity_id: int) -> Response:
        async def work() -> Response:
            act = st.activities.get(activity_id)
            return JSONResponse(act) if act else PlainTextResponse("Not Found", status_code=404)

        return await site.guarded(request, work)

    async def get_form(request: Request, form_id: str) -> Response:
        async def work() -> Response:
            fields = settings.forms.get(form_id)
            if fields is None:
                return PlainTextResponse("Not Found", status_code=404)
            return JSONResponse(
                {
                    "type": "Form",
                    "id": form_id,
                    "name": f"Sandbox form {form_id}",
                    "elements": [
                        {
                            "type": "FormField",
                            "id": f["id"],
                            "name": f["name"],
                            "htmlName": f["htmlName"],
                            "validations": [
                                {"type": "FieldValidation", "condition": {"type": "IsRequiredCondition"}}
                            ]
                            if f.get("required")
                            else [],
                        }
                        for f in fields
                    ],
                }
            )

        return await site.guarded(request, work)

    async def submit_form(request: Request, form_id: str) -> Response:
        async def work() -> Response:
            fields = settings.forms.get(form_id)
            if fields is None:
                return PlainTextResponse("Not Found", status_code=404)
            body = await request.json()
            by_id = {f["id"]: f for f in fields}
            values: dict[str, Any] = {}
            for fv in (body or {}).get("fieldValues") or []:
                fid = str(fv.get("id"))
                if fid not in by_id:
                    return validation("fieldValues", "FormFieldRequirement", fid, "FormData")
                values[fid] = fv.get("value")
            for f in fields:
                v = values.get(f["id"])
                if f.get("required") and v in (None, ""):
                    return validation(f["htmlName"], "IsRequiredCondition", v, "FormData")
                if f.get("email") and v not in (None, "") and not valid_email(v):
                    return validation(f["htmlName"], "EmailAddressRequirement", v, "FormData")
            named = {by_id[fid]["htmlName"]: v for fid, v in values.items()}
            contact_id = None
            if named.get("emailAddress"):
                found = st.emails.find("emailAddress", named["emailAddress"])
                match = st.contacts[found[0]] if found else None
                if match is None:
                    match = new_contact(
                        site, {k: v for k, v in named.items() if k in STANDARD_FIELDS.values()}
                    )
                else:
                    apply_contact(
                        site, match, {k: v for k, v in named.items() if k in STANDARD_FIELDS.values()}
                    )
                contact_id = match["id"]
            sid = st.next_id()
            sub = {
                "type": "FormData",
                "id": str(sid),
                "formId": form_id,
                "submittedAt": str(unix()),
                "fieldValues": [{"type": "FieldValue", "id": k, "value": v} for k, v in values.items()],
                "contactId": str(contact_id) if contact_id else None,
            }
            st.submissions.append(sub)
            return JSONResponse(sub, status_code=201)

        return await site.guarded(request, work)

    r.add_api_route("/api/rest/2.0/data/activity", create_activity, methods=["POST"])
    r.add_api_route("/api/rest/2.0/data/activity/{activity_id}", get_activity, methods=["GET"])
    r.add_api_route("/api/rest/2.0/assets/form/{form_id}", get_form, methods=["GET"])
    r.add_api_route("/api/rest/2.0/data/form/{form_id}", submit_form, methods=["POST"])

    return r
