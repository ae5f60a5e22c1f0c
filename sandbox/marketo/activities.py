"""Activity reads: date-based paging tokens, activities by type, lead changes."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.marketo.site import Site, fail, ok, request_id


def router(site: Site) -> APIRouter:
    settings, st = site.settings, site.st
    r = APIRouter()

    async def paging_token(request: Request) -> Response:
        async def work(_: bytes) -> Response:
            since = request.query_params.get("sinceDatetime")
            if not since:
                return fail("1002", "Missing value for the required parameter 'sinceDatetime'")
            try:
                ts = datetime.fromisoformat(since.replace("Z", "+00:00"))
                if ts.tzinfo is None:
                    ts = ts.replace(tzinfo=UTC)
            except ValueError:
                return fail("704", "Invalid date format")
            position = sum(1 for a in st.activities if a["_t"] < ts.timestamp())
            tok = secrets.token_urlsafe(24)
            st.page_tokens[tok] = position
            return JSONResponse({"requestId": request_id(), "success": True, "nextPageToken": tok})

        return await site.guarded(request, work)

    async def activities(request: Request) -> Response:
        async def work(_: bytes) -> Response:
            params = dict(request.query_params)
            if not params.get("nextPageToken"):
                return fail("1002", "Missing value for the required parameter 'nextPageToken'")
            ids = params.get("activityTypeIds")
            if not ids:
                return fail("1002", "Missing value for the required parameter 'activityTypeIds'")
            wanted = {int(x) for x in ids.split(",") if x.strip().isdigit()}
            return _activity_page(params, lambda a: a["activityTypeId"] in wanted)

        return await site.guarded(request, work)

    async def lead_changes(request: Request) -> Response:
        async def work(_: bytes) -> Response:
            params = dict(request.query_params)
            if not params.get("nextPageToken"):
                return fail("1002", "Missing value for the required parameter 'nextPageToken'")
            if not params.get("fields"):
                return fail("1002", "Missing value for the required parameter 'fields'")
            names = set(params["fields"].split(","))
            return _activity_page(
                params, lambda a: a["activityTypeId"] == 13 and a["fields"][0]["name"] in names
            )

        return await site.guarded(request, work)

    def _activity_page(params: dict[str, str], keep: Any) -> JSONResponse:
        """Date-based tokens are positions in the activity log; each page moves the position
        past what it scanned, so activities written meanwhile are read on a later page."""
        tok = params["nextPageToken"]
        if tok not in st.page_tokens:
            return fail("1003", "Invalid nextPageToken")
        start = st.page_tokens[tok]
        size = max(1, min(int(params.get("batchSize") or 300), settings.max_page_size))
        out: list[dict[str, Any]] = []
        pos = start
        while pos < len(st.activities) and len(out) < size:
            act = st.activities[pos]
            pos += 1
            if keep(act):
                out.append({k: v for k, v in act.items() if k != "_t"})
        nxt = secrets.token_urlsafe(24)
        st.page_tokens[nxt] = pos
        return ok(out, moreResult=pos < len(st.activities), nextPageToken=nxt)

    r.add_api_route("/rest/v1/activities/pagingtoken.json", paging_token, methods=["GET"])
    r.add_api_route("/rest/v1/activities.json", activities, methods=["GET"])
    r.add_api_route("/rest/v1/activities/leadchanges.json", lead_changes, methods=["GET"])

    return r
