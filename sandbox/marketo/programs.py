"""Program members: the member status sync (forward-only event-channel progression) and reads."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from sandbox.marketo.site import EVENT_STATUSES, Reject, Site, fail, now_iso, ok, skipped


def router(site: Site) -> APIRouter:
    settings, st = site.settings, site.st
    r = APIRouter()

    async def member_status(request: Request, program_id: str) -> Response:
        async def work(body: bytes) -> Response:
            try:
                payload = site.json_body(request, body)
            except Reject as r:
                return fail(r.code, r.message)
            if program_id not in settings.programs:
                return fail("1013", f"Program '{program_id}' not found")
            if not isinstance(payload, dict) or not payload.get("statusName"):
                return fail("1002", "Missing value for the required parameter 'statusName'")
            status = payload["statusName"]
            if status not in EVENT_STATUSES:
                return fail(
                    "1003", f"Invalid data: status '{status}' is not a status of the program's channel"
                )
            items = payload.get("input")
            if not isinstance(items, list) or not items:
                return fail("1002", "Missing value for the required parameter 'input'")
            if len(items) > settings.max_batch:
                return fail(
                    "1003", f"Invalid data: input has {len(items)} records, the limit is {settings.max_batch}"
                )
            out = []
            for seq, item in enumerate(items):
                lid = item.get("leadId") if isinstance(item, dict) else None
                if not isinstance(lid, int) or lid not in st.leads:
                    out.append(skipped("1004", "Lead not found", seq=seq, leadId=lid))
                    continue
                key = (program_id, lid)
                cur = st.members.get(key)
                if cur is not None and (
                    cur["statusName"] == status or EVENT_STATUSES[status] < EVENT_STATUSES[cur["statusName"]]
                ):
                    out.append(
                        skipped(
                            "1037",
                            f"Lead already in or past status '{cur['statusName']}'",
                            seq=seq,
                            leadId=lid,
                        )
                    )
                    continue
                st.members[key] = {
                    "leadId": lid,
                    "programId": int(program_id),
                    "statusName": status,
                    "progressionStatus": status,
                    "reachedSuccess": status == "Attended",
                    "membershipDate": cur["membershipDate"] if cur else now_iso(),
                }
                site.activity(lid, 104, programId=int(program_id), statusName=status)
                out.append({"seq": seq, "status": "updated" if cur else "created", "leadId": lid})
            return ok(out)

        return await site.guarded(request, work, check_size=True)

    async def members(request: Request, program_id: str) -> Response:
        async def work(_: bytes) -> Response:
            if program_id not in settings.programs:
                return fail("1013", f"Program '{program_id}' not found")
            params = dict(request.query_params)
            rows = [m for (pid, _lid), m in sorted(st.members.items()) if pid == program_id]
            ftype, fvals = params.get("filterType"), params.get("filterValues")
            if ftype and fvals:
                wanted = set(fvals.split(","))
                rows = [m for m in rows if str(m.get(ftype)) in wanted]
            return site.page([{"seq": i, **m} for i, m in enumerate(rows)], params)

        return await site.guarded(request, work)

    r.add_api_route("/rest/v1/programs/{program_id}/members/status.json", member_status, methods=["POST"])
    r.add_api_route("/rest/v1/programs/{program_id}/members.json", members, methods=["GET"])

    return r
