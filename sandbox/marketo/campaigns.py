"""Smart campaigns: the 'Campaign is Requested' trigger."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from sandbox.marketo.site import Reject, Site, fail, ok


def router(site: Site) -> APIRouter:
    settings, st = site.settings, site.st
    r = APIRouter()

    async def trigger(request: Request, campaign_id: str) -> Response:
        async def work(body: bytes) -> Response:
            try:
                payload = site.json_body(request, body)
            except Reject as r:
                return fail(r.code, r.message)
            if campaign_id not in settings.campaigns:
                return fail("1013", f"Campaign '{campaign_id}' not found")
            if not settings.campaigns[campaign_id]:
                return fail("1003", "Invalid data: the campaign has no 'Campaign is Requested' trigger")
            inp = payload.get("input") if isinstance(payload, dict) else None
            leads = inp.get("leads") if isinstance(inp, dict) else None
            if not isinstance(leads, list) or not leads:
                return fail("1002", "Missing value for the required parameter 'input.leads'")
            if len(leads) > settings.max_trigger_leads:
                return fail("1003", f"Invalid data: more than {settings.max_trigger_leads} leads")
            ids = [item.get("id") for item in leads if isinstance(item, dict)]
            st.triggers.append(
                {
                    "campaignId": int(campaign_id),
                    "leads": [i for i in ids if i in st.leads],
                    "ignored": [i for i in ids if i not in st.leads],
                    "tokens": inp.get("tokens", []) if isinstance(inp, dict) else [],
                }
            )
            return ok([{"id": int(campaign_id)}])

        return await site.guarded(request, work, check_size=True)

    r.add_api_route("/rest/v1/campaigns/{campaign_id}/trigger.json", trigger, methods=["POST"])

    return r
