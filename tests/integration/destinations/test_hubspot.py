"""HubSpot end to end: per-record rejects, TEN_SECONDLY_ROLLING 429s forced by a tighter emulator
limit, a 5xx burst; then the DAILY limit pausing the flow with a clear status."""

from __future__ import annotations

import httpx
from temporalio.client import Client

from client.flow_control import explain, operate, shard_ids
from eventsync.definitions import Definitions
from sandbox import hubspot
from sandbox.serving import served
from tests.integration.destinations.harness import assert_in_order, run_flow, state, until
from tests.integration.signal.harness import post_event, receiver
from tests.unit.destinations.support import connection, event_doc, flow
from worker.main import build_worker
from workflows.flow import SignalShardWorkflow

RECORDS = [f"H{i}" for i in range(6)] + ["HBAD"]


async def test_hubspot_every_record_delivered_or_parked_in_order_under_faults(
    client: Client, task_queue: str
) -> None:
    with served(hubspot.create_app()) as emu:
        async with httpx.AsyncClient() as http:
            path = "/crm/v3/objects/contacts/batch/upsert"
            await http.post(emu.url + "/_sandbox/faults", json={"path": path, "status": 502, "times": 3})
            await http.patch(
                emu.url + "/_sandbox/settings", json={"ten_secondly_limit": 2, "burst_window_s": 1.0}
            )
        _, explained, parked_map = await run_flow(
            client, task_queue, "hubspot", emu.url, RECORDS, bad={"HBAD": "nope@@x"}
        )
        async with httpx.AsyncClient() as http:
            st = await state(http, emu.url)
    good = [r for r in RECORDS if r != "HBAD"]
    assert_in_order(explained, good, 3)
    contacts = {c["properties"]["registration_code"]: c for c in st["contacts"]}
    assert set(contacts) == set(good)
    assert all(contacts[r]["properties"]["event_status"] == "Attended" for r in good)
    delivered = [e for e in explained["H0"] if e["decision"] == "delivered"]
    assert delivered[0]["action"] == "created" and delivered[1]["action"] == "updated"
    assert delivered[0]["vendor_id"] == str(contacts["H0"]["id"])
    assert "INVALID_EMAIL" in parked_map["HBAD"].reason
    assert st["counters"].get("429_TEN_SECONDLY_ROLLING", 0) >= 1


async def test_hubspot_daily_limit_pauses_until_resumed(client: Client, task_queue: str) -> None:
    with served(hubspot.create_app(daily_limit=0)) as emu:
        conn = connection("hubspot", emu.url)
        f = flow("hubspot", conn.name, shards=1)
        defs = Definitions(connections=[conn], flows=[f])  # type: ignore[call-arg]
        async with httpx.AsyncClient() as http, build_worker(client, task_queue):
            with receiver(client, defs, task_queue) as rx:
                assert (await post_event(http, rx.url, event_doc("D1", 0))).status_code == 200

                async def waiting() -> str:
                    for wid in await shard_ids(client, f.name):
                        s = await client.get_workflow_handle(wid).query(SignalShardWorkflow.summary)
                        if s.waiting_until:
                            return s.waiting_reason
                    return ""

                reason = await until(waiting, what="shard waiting for the daily reset")
                assert "HubSpot daily API limit reached" in reason and "DAILY" in reason
                assert any(e["decision"] == "waiting" for e in await explain(f.name, "D1"))
                await http.patch(emu.url + "/_sandbox/settings", json={"daily_limit": 1000})
                await operate(client, "retry", f.name, None, "ops", "daily limit reset")

                async def there() -> bool:
                    return len((await state(http, emu.url))["contacts"]) == 1

                await until(there, what="delivered after the reset")
