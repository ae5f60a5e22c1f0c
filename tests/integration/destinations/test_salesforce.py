"""Salesforce end to end: session expiry mid-run (INVALID_SESSION_ID), per-record rejects, a 5xx
burst, CampaignMember status from an event question; the 24 h allocation pausing the flow."""

from __future__ import annotations

import httpx
from temporalio.client import Client

from client.flow_control import operate, shard_ids
from eventsync.definitions import Definitions
from sandbox import salesforce
from sandbox.serving import served
from tests.integration.destinations.harness import assert_in_order, run_flow, state, until
from tests.integration.signal.harness import post_event, receiver
from tests.unit.destinations.support import connection, event_doc, flow
from worker.main import build_worker
from workflows.flow import SignalShardWorkflow

RECORDS = [f"S{i}" for i in range(6)] + ["SBAD"]


async def _campaign(http: httpx.AsyncClient, url: str) -> str:
    r = await http.post(url + "/_sandbox/records/Campaign", json={"Name": "Summit"})
    return str(r.json()["id"])


async def test_salesforce_every_record_delivered_or_parked_in_order_under_faults(
    client: Client, task_queue: str
) -> None:
    with served(salesforce.create_app()) as emu:
        async with httpx.AsyncClient() as http:
            campaign = await _campaign(http, emu.url)
            await http.post(
                emu.url + "/_sandbox/faults", json={"path": "/services/data", "status": 503, "times": 3}
            )

        async def expire(h: httpx.AsyncClient) -> None:
            assert (await h.post(emu.url + "/_sandbox/expire-tokens")).json()["expired"] >= 1

        dest = {"campaign": {"ref": {"value": campaign}, "status": "$.status"}}
        _, explained, parked_map = await run_flow(
            client, task_queue, "salesforce", emu.url, RECORDS, bad={"SBAD": "x@"}, dest=dest, mid_run=expire
        )
        async with httpx.AsyncClient() as http:
            st = await state(http, emu.url)
    good = [r for r in RECORDS if r != "SBAD"]
    assert_in_order(explained, good, 3)
    leads = {r["Registration_Code__c"]: r for r in st["records"]["Lead"].values()}
    assert set(leads) == set(good)
    members = {m["LeadId"]: m["Status"] for m in st["records"]["CampaignMember"].values()}
    assert all(members[leads[r]["Id"]] == "Attended" for r in good)
    first = next(e for e in explained["S0"] if e["decision"] == "delivered")
    assert first["vendor_id"] == leads["S0"]["Id"] and first["action"] == "created"
    assert f"campaign {campaign} member" in first["detail"]
    assert "INVALID_EMAIL_ADDRESS" in parked_map["SBAD"].reason
    assert st["counters"].get("401_INVALID_SESSION_ID", 0) >= 1


async def test_salesforce_allocation_used_up_pauses_with_a_clear_status(
    client: Client, task_queue: str
) -> None:
    with served(salesforce.create_app(daily_api_limit=5)) as emu:
        conn = connection("salesforce", emu.url)
        f = flow("salesforce", conn.name, shards=1)
        defs = Definitions(connections=[conn], flows=[f])  # type: ignore[call-arg]
        async with httpx.AsyncClient() as http, build_worker(client, task_queue):
            await http.post(emu.url + "/_sandbox/api-usage", json={"used": 5})
            with receiver(client, defs, task_queue) as rx:
                assert (await post_event(http, rx.url, event_doc("L1", 0))).status_code == 200

                async def waiting() -> str:
                    for wid in await shard_ids(client, f.name):
                        s = await client.get_workflow_handle(wid).query(SignalShardWorkflow.summary)
                        if s.waiting_until:
                            return s.waiting_reason
                    return ""

                reason = await until(waiting, what="waiting for the allocation")
                assert "Salesforce 24 h API allocation used up" in reason
                await http.post(emu.url + "/_sandbox/api-usage", json={"used": 0})
                await operate(client, "retry", f.name, None, "ops", "allocation raised")

                async def there() -> bool:
                    return len((await state(http, emu.url))["records"].get("Lead", {})) == 1

                await until(there, what="delivered after the allocation")
