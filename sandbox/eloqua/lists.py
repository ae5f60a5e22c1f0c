"""REST contact lists and their members."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from sandbox.eloqua.contacts import contact_view
from sandbox.eloqua.site import Site, unix, validation


def list_view(lst: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "ContactList",
        "id": str(lst["id"]),
        "name": lst["name"],
        "count": len(lst["members"]),
        "createdAt": str(lst["createdAt"]),
        "updatedAt": str(lst["updatedAt"]),
    }


def router(site: Site) -> APIRouter:
    st = site.st
    r = APIRouter()

    async def create_list(request: Request) -> Response:
        async def work() -> Response:
            body = await request.json()
            if not isinstance(body, dict) or not body.get("name"):
                return validation("name", "NotNullRequirement", None, "ContactList")
            if any(lst["name"] == body["name"] for lst in st.lists.values()):
                return validation("name", "UniquenessRequirement", body["name"], "ContactList", status=409)
            lid = st.next_id()
            st.lists[lid] = {
                "id": lid,
                "name": body["name"],
                "members": [],
                "createdAt": unix(),
                "updatedAt": unix(),
            }
            return JSONResponse(list_view(st.lists[lid]), status_code=201)

        return await site.guarded(request, work)

    async def list_item(request: Request, list_id: int) -> Response:
        async def work() -> Response:
            lst = st.lists.get(list_id)
            if lst is None:
                return PlainTextResponse("Not Found", status_code=404)
            if request.method == "GET":
                return JSONResponse(list_view(lst))
            body = await request.json()
            adds = [str(x) for x in body.get("membershipAdditions") or []]
            dels = {str(x) for x in body.get("membershipDeletions") or []}
            for cid in adds:
                if not cid.isdigit() or int(cid) not in st.contacts:
                    return validation("membershipAdditions", "ContactRequirement", cid, "ContactList")
            for cid in adds:
                if int(cid) not in lst["members"]:
                    lst["members"].append(int(cid))
            lst["members"] = [m for m in lst["members"] if str(m) not in dels]
            if body.get("name"):
                lst["name"] = body["name"]
            lst["updatedAt"] = unix()
            return JSONResponse(list_view(lst))

        return await site.guarded(request, work)

    async def all_lists(request: Request) -> Response:
        async def work() -> Response:
            return site.paged(request, [list_view(x) for _, x in sorted(st.lists.items())])

        return await site.guarded(request, work)

    async def list_members(request: Request, list_id: int) -> Response:
        async def work() -> Response:
            lst = st.lists.get(list_id)
            if lst is None:
                return PlainTextResponse("Not Found", status_code=404)
            rows = [
                contact_view(st.contacts[m], request.query_params.get("depth", "minimal"))
                for m in lst["members"]
                if m in st.contacts
            ]
            return site.paged(request, rows)

        return await site.guarded(request, work)

    r.add_api_route("/api/rest/1.0/assets/contact/list", create_list, methods=["POST"])
    r.add_api_route("/api/rest/1.0/assets/contact/list/{list_id}", list_item, methods=["GET", "PUT"])
    r.add_api_route("/api/rest/1.0/assets/contact/lists", all_lists, methods=["GET"])
    for v in ("1.0", "2.0"):
        r.add_api_route(f"/api/rest/{v}/data/contacts/list/{{list_id}}", list_members, methods=["GET"])

    return r
