"""Marketo end to end: token expiry mid-run, a per-record reject, 606s forced by a tighter
emulator limit, a 5xx burst; then the daily quota (607) pausing the flow with a clear status."""

from __future__ import annotations

import httpx
from temporalio.client import Client

from client.flow_control import explain, operate, shard_ids
from eventsync.definitions import Definitions
from eventsync.destinations.registry import VENDOR_ADAPTERS
from sandbox import marketo
from sandbox.serving import served
from tests.integration.destinations.harness import assert_in_order, run_flow, state, until
from tests.integration.signal.harness import post_event, receiver
from tests.unit.destinations.support import connection, event_doc, flow
from worker.main import build_worker
from workflows.flow import SignalShardWorkflow

RECORDS = [f"M{i}" for i in range(6)] + ["MBAD"]


async def test_marketo_every_record_delivered_or_parked_in_order_under_faults(
    client: Client, task_queue: str
) -> None:
    with served(marketo.create_app()) as emu:
        async with httpx.AsyncClient() as http:
            # 5xx burst on Sync Leads; a tighter rate limit than the documented one (606s)
            await http.post(
                emu.url + "/_sandbox/faults", json={"path": "/rest/v1/leads.json", "status": 503, "times": 3}
            )
            await http.patch(emu.url + "/_sandbox/settings", json={"rate_limit": 6, "rate_window_s": 2.0})

        async def expire(h: httpx.AsyncClient) -> None:
            assert (await h.post(emu.url + "/_sandbox/expire-tokens")).json()["expired"] >= 1

        _, explained, parked_map = await run_flow(
            client, task_queue, "marketo", emu.url, RECORDS, bad={"MBAD": "not-an-email"}, mid_run=expire
        )
        async with httpx.AsyncClient() as http:
            st = await state(http, emu.url)
    good = [r for r in RECORDS if r != "MBAD"]
    assert_in_order(explained, good, 3)
    # the vendor holds each good record once, with its last event's values, in the program
    leads = {lead["registrationCode"]: lead for lead in st["leads"]}
    assert set(leads) == set(good)
    assert all(leads[r]["firstName"] == "First2" for r in good)
    members = {m["leadId"]: m["statusName"] for m in st["program_members"]}
    assert all(members[leads[r]["id"]] == "Attended" for r in good)
    # explain shows Marketo's id and what it did
    first = next(e for e in explained["M0"] if e["decision"] == "delivered")
    assert first["action"] == "created" and first["vendor_id"] == str(leads["M0"]["id"])
    assert "program 1001 status Registered" in first["detail"]
    # the bad record parked with Marketo's reason; its later events held, never sent
    assert "Marketo 1003" in parked_map["MBAD"].reason and "not-an-email" in parked_map["MBAD"].reason
    assert [e["decision"] for e in explained["MBAD"]].count("held") == 2
    # the faults really happened
    assert st["counters"].get("602", 0) + st["counters"].get("601", 0) >= 1
    assert st["counters"].get("tokens_issued", 0) >= 2
    assert st["counters"].get("606", 0) >= 1


async def test_marketo_daily_quota_pauses_the_flow_until_an_operator_resumes(
    client: Client, task_queue: str
) -> None:
    with served(marketo.create_app(daily_quota=1)) as emu:
        conn = connection("marketo", emu.url)
        f = flow("marketo", conn.name, {"program": None, "campaign": None}, shards=1)
        defs = Definitions(connections=[conn], flows=[f])  # type: ignore[call-arg]
        async with httpx.AsyncClient() as http, build_worker(client, task_queue):
            with receiver(client, defs, task_queue) as rx:
                # one call passes, the next hits 607 (sent apart: together they would be one call)
                assert (await post_event(http, rx.url, event_doc("Q1", 0))).status_code == 200

                async def first() -> bool:
                    return any(e["decision"] == "delivered" for e in await explain(f.name, "Q1"))

                await until(first, what="Q1 delivered")
                assert (await post_event(http, rx.url, event_doc("Q2", 0))).status_code == 200

                async def waiting() -> bool:
                    ids = await shard_ids(client, f.name)
                    for wid in ids:
                        s = await client.get_workflow_handle(wid).query(SignalShardWorkflow.summary)
                        if s.waiting_until:
                            return "Marketo daily API quota reached" in s.waiting_reason
                    return False

                await until(waiting, what="shard waiting for the quota")
                entries = [e for r in ("Q1", "Q2") for e in await explain(f.name, r)]
                assert any(e["decision"] == "waiting" and "607" in e["detail"] for e in entries)
                # search attribute says so too
                desc = await client.get_workflow_handle((await shard_ids(client, f.name))[0]).describe()
                assert desc.search_attributes.get("EventsyncStatus") == ["waiting_quota"]
                await http.post(emu.url + "/_sandbox/reset-quota")
                await http.patch(emu.url + "/_sandbox/settings", json={"daily_quota": 50_000})
                await operate(client, "retry", f.name, None, "ops", "quota reset")

                async def both() -> bool:
                    st = await state(http, emu.url)
                    return {lead["registrationCode"] for lead in st["leads"]} == {"Q1", "Q2"}

                await until(both, what="both delivered after the reset")
    assert VENDOR_ADAPTERS["marketo"].throttled.get("615", 0) == 0  # type: ignore[attr-defined]
