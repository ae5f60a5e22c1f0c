"""Eloqua end to end: bulk import with rejects mapped back, REST for small batches, 429s forced by
a tighter emulator limit, a 503 burst, list membership and an external activity per campaign."""

from __future__ import annotations

import httpx
from temporalio.client import Client

from eventsync.destinations.registry import VENDOR_ADAPTERS
from sandbox import eloqua
from sandbox.serving import served
from tests.integration.destinations.harness import assert_in_order, run_flow, state

RECORDS = [f"E{i}" for i in range(8)] + ["EBAD"]


async def test_eloqua_every_record_delivered_or_parked_in_order_under_faults(
    client: Client, task_queue: str
) -> None:
    with served(eloqua.create_app(rate_limit=8, rate_window_s=1.0)) as emu:
        async with httpx.AsyncClient(auth=("SandboxCo\\api.user", "sandbox-password")) as http:
            lst = (
                await http.post(emu.url + "/api/REST/1.0/assets/contact/list", json={"name": "Summit"})
            ).json()
            await http.post(
                emu.url + "/_sandbox/faults", json={"path": "/api/bulk/2.0/syncs", "status": 503, "times": 2}
            )
        dest = {"contact_list_id": lst["id"], "rest_max_batch": 3}
        _, explained, parked_map = await run_flow(
            client, task_queue, "eloqua", emu.url, RECORDS, bad={"EBAD": "bad@"}, dest=dest
        )
        async with httpx.AsyncClient() as http:
            st = await state(http, emu.url)
    good = [r for r in RECORDS if r != "EBAD"]
    assert_in_order(explained, good, 3)
    contacts = {c["emailAddress"]: c for c in st["contacts"]}
    assert set(contacts) == {f"{r.lower()}@example.com" for r in good}
    assert all(contacts[f"{r.lower()}@example.com"]["firstName"] == "First2" for r in good)
    members = next(x["members"] for x in st["lists"] if x["name"] == "Summit")
    assert {int(contacts[f"{r.lower()}@example.com"]["id"]) for r in good} <= set(members)
    kinds = {(a["contactId"], a["activityType"]) for a in st["activities"]}
    assert all((contacts[f"{r.lower()}@example.com"]["id"], "Attended") in kinds for r in good)
    first = next(e for e in explained["E0"] if e["decision"] == "delivered")
    # a batch retried after a fault may find its contact created by the earlier attempt: "updated"
    assert first["vendor_id"] == contacts["e0@example.com"]["id"]
    firsts = [next(e for e in explained[r] if e["decision"] == "delivered") for r in good]
    assert any(e["action"] == "created" for e in firsts)
    assert "ELQ-00002" in parked_map["EBAD"].reason or "EmailAddressRequirement" in parked_map["EBAD"].reason
    assert st["counters"].get("429", 0) >= 1
    used = VENDOR_ADAPTERS["eloqua"].path_used  # type: ignore[attr-defined]
    assert used["bulk"] >= 1
