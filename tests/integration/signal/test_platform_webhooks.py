"""The platform emulator sending real signed webhooks: registrations created and statuses changed
in the platform -> webhook -> receiver -> Temporal -> flow shard -> webhook destination. Also
replay through the platform API, `changed_to` rules with the previous status looked up, and the
platform's own broken signatures / skewed timestamps refused by the receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from temporalio.client import Client

from client.flow_control import explain, replay
from tests.integration.signal.harness import (
    destination,
    platform,
    platform_flow,
    receiver,
    register,
    set_status,
    statuses,
    wait_for,
)
from worker.main import build_worker

STEPS = ["Invited", "Pre-Registered", "Attended", "Cancelled"]


async def test_status_changes_in_the_platform_arrive_in_order_despite_destination_faults(
    client: Client, task_queue: str
) -> None:
    with destination() as dest:
        async with httpx.AsyncClient() as http:
            await http.post(
                dest.url + "/_sandbox/faults",
                json={"path": "/hook", "action": "delay", "delay_s": 0.2, "rate": 0.3},
            )
            await http.post(dest.url + "/_sandbox/faults", json={"path": "/hook", "status": 503, "times": 4})
            async with build_worker(client, task_queue):
                with platform() as plat:
                    defs, _ = platform_flow(dest.url, plat.url)
                    with receiver(client, defs, task_queue) as rx:
                        await http.put(
                            plat.url + "/_sandbox/webhooks",
                            json={
                                "url": rx.url + "/webhooks/platform",
                                "secret": "test-webhook-secret",
                                "backoff_initial_s": 0.2,
                                "backoff_max_s": 1.0,
                                "max_attempts": 20,
                            },
                        )
                        codes = [await register(http, plat, f"p{i}@example.com") for i in range(3)]
                        # Each change waits for the previous one's webhook to be accepted, as a
                        # person's successive edits are spaced; the destination still fails/slows.
                        for step in STEPS:
                            await http.post(plat.url + "/_sandbox/webhooks/drain?timeout=30")
                            for code in codes:
                                await set_status(http, plat, code, step)
                        await http.post(plat.url + "/_sandbox/webhooks/drain?timeout=30")
                        d = await wait_for(dest, lambda d: all(len(statuses(d, c)) >= 5 for c in codes))
                        log = (await http.get(plat.url + "/_sandbox/webhooks/deliveries")).json()
    for code in codes:
        assert statuses(d, code) == ["New", *STEPS]
    assert any(r["status"] == 503 for r in d.requests)
    items = log["deliveries"] if isinstance(log, dict) else log
    assert items and all(x["state"] == "delivered" for x in items)


async def test_changed_to_uses_the_previous_status_and_replay_resends_the_range(
    client: Client, task_queue: str
) -> None:
    attended = {"subject": "status", "op": "changed_to", "value": "Signal: Attended"}
    with destination() as dest:
        async with httpx.AsyncClient() as http, build_worker(client, task_queue):
            with platform() as plat:
                defs, flow = platform_flow(dest.url, plat.url, activate_for=attended)
                with receiver(client, defs, task_queue) as rx:
                    await http.put(
                        plat.url + "/_sandbox/webhooks",
                        json={"url": rx.url + "/webhooks/platform", "secret": "test-webhook-secret"},
                    )
                    start = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
                    a = await register(http, plat, "a@example.com")
                    b = await register(http, plat, "b@example.com")
                    await set_status(http, plat, a, "Attended")  # New -> Attended: delivered
                    await http.post(plat.url + "/_sandbox/webhooks/drain?timeout=30")
                    await set_status(http, plat, b, "Pre-Registered")  # not to Attended: skipped
                    await http.post(plat.url + "/_sandbox/webhooks/drain?timeout=30")
                    await wait_for(dest, lambda d: statuses(d, a) == ["Attended"])

                    async def b_decided() -> list[dict[str, object]]:
                        got = [e for e in await explain(flow.name, b) if e["decision"] != "queued"]
                        return got if len(got) >= 2 else []

                    import asyncio

                    for _ in range(100):
                        why_b = await b_decided()
                        if why_b:
                            break
                        await asyncio.sleep(0.2)
                    end = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
                    # Replay: every registration modified in the range, on its current state: `a` is
                    # Attended (re-sent), `b` Pre-Registered (skipped again).
                    sent = await replay(client, defs, flow.name, start, end, None, task_queue, source="platform")
                    assert sent == 2
                    d = await wait_for(dest, lambda d: len(statuses(d, a)) >= 2)
                    why_a = await explain(flow.name, a)
    assert [e["decision"] for e in why_b] == ["skipped", "skipped"]
    assert "changed to 'Signal: Attended'" in str(why_b[-1]["rule"])
    assert statuses(d, a) == ["Attended", "Attended"] and statuses(d, b) == []
    delivered = [e for e in why_a if e["decision"] == "delivered"]
    assert [str(e["event_id"]).startswith("replay-") for e in delivered] == [False, True]
    assert all(e["status"] == 200 and "changed to 'Signal: Attended'" in e["rule"] for e in delivered)


async def test_platform_deliveries_with_a_wrong_key_or_a_skewed_clock_are_refused(
    client: Client, task_queue: str
) -> None:
    with destination() as dest:
        async with httpx.AsyncClient() as http, build_worker(client, task_queue):
            with platform() as plat:
                defs, flow = platform_flow(dest.url, plat.url)
                with receiver(client, defs, task_queue) as rx:
                    base = {
                        "url": rx.url + "/webhooks/platform",
                        "secret": "test-webhook-secret",
                        "max_attempts": 1,
                    }
                    await http.put(plat.url + "/_sandbox/webhooks", json={**base, "break_signature": True})
                    await register(http, plat, "wrong@example.com")
                    await http.post(plat.url + "/_sandbox/webhooks/drain?timeout=30")
                    await http.put(plat.url + "/_sandbox/webhooks", json={**base, "timestamp_skew_s": -900})
                    await register(http, plat, "late@example.com")
                    await http.post(plat.url + "/_sandbox/webhooks/drain?timeout=30")
                    log = (await http.get(plat.url + "/_sandbox/webhooks/deliveries")).json()
                    found = [w async for w in client.list_workflows(f"EventsyncName='{flow.name}'")]
    items = log["deliveries"] if isinstance(log, dict) else log
    assert sorted(x["attempts"][0]["status"] for x in items) == [401, 409]
    assert all(x["state"] == "failed" for x in items)
    assert found == []
