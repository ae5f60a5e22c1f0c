"""Real time: platform changes reach Touchpoint through signed webhooks, the receiver and the
Touchpoint flow's shard workflows (the Signal machinery), on the real dev server."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError

from client.flow_control import explain as explain_record
from client.insights import InsightsCollector
from eventsync.flows.sharding import shard_of
from eventsync.flows.sharding import workflow_id as shard_workflow_id
from tests.integration.touchpoint.harness import eventually, world
from workflows.flow import OperatorAction, SignalShardWorkflow


def links(ev: dict[str, Any], code: str) -> list[tuple[str, str]]:
    return [(link["title"], link["url"]) for link in ev["sessions"][code]["related_links"]]


async def explain(flow: str, _shards: int, record: str) -> list[str]:
    return [f"{e['decision']}: {e['detail']}" for e in await explain_record(flow, record)]


async def test_related_links_first_link_per_field_each_form_and_emptied_field(
    client: Client, task_queue: str
) -> None:
    async with world(client, task_queue) as w:
        await w.session(
            "S1",
            {
                # several links in one field: only the first counts
                "Slides": '<p>See <a href="https://ex.com/slides">the <b>slides</b></a> or '
                '<a href="https://ex.com/other">other</a></p>',
                "Recording": "Watch [the recording](https://video.ex.com/r1) then [more](https://x.ex.com)",
                "Notes": "https://untagged.ex.com/ignored",
                "Extra": "bare https://ex.com/extra, then https://ex.com/second",
                "Bad": '<a href="ftp://files.ex.com/deck.pdf">deck</a> https://ex.com/later',
            },
            create=True,
        )
        ev = await w.until(
            lambda e: "S1" in e["sessions"] and e["sessions"]["S1"]["related_links"], "S1 links"
        )
        # field order is the platform layout (position), not creation order or names
        assert links(ev, "S1") == [
            ("the slides", "https://ex.com/slides"),
            ("the recording", "https://video.ex.com/r1"),
            ("https://ex.com/extra", "https://ex.com/extra"),
        ]
        assert ev["sessions"]["S1"]["title"] == "Session S1"
        # the refused ftp: link is visible with its reason in the record's decisions
        flow = w.defs.touchpoint.name  # type: ignore[union-attr]
        why = await explain(flow, 2, "session:S1")
        assert any(
            "field 'Bad'" in line and "ftp:" in line and "only http and https" in line for line in why
        ), why

        # emptying a field removes its link; the others keep their order
        await w.session("S1", {"Recording": ""})
        ev = await w.until(lambda e: len(e["sessions"]["S1"]["related_links"]) == 2, "Recording link removed")
        assert links(ev, "S1") == [
            ("the slides", "https://ex.com/slides"),
            ("https://ex.com/extra", "https://ex.com/extra"),
        ]
        # and filling it again brings the link back in its place
        await w.session("S1", {"Recording": "https://video.ex.com/r2"})
        ev = await w.until(lambda e: len(e["sessions"]["S1"]["related_links"]) == 3, "Recording link back")
        assert links(ev, "S1")[1] == ("https://video.ex.com/r2", "https://video.ex.com/r2")


async def test_status_leaving_synced_set_deactivates_and_coming_back_reactivates(
    client: Client, task_queue: str
) -> None:
    async with world(client, task_queue) as w:
        code = await w.register("ada@ex.com", "New", first="Ada", position="CTO")
        other = await w.register("bob@ex.com", "Waitlist Hold", first="Bob")  # untagged status
        ev = await w.until(lambda e: code in e["attendees"], "Ada as attendee")
        a = ev["attendees"][code]
        assert (a["first_name"], a["email"], a["job_title"], a["status"], a["active"]) == (
            "Ada",
            "ada@ex.com",
            "CTO",
            "New",
            True,
        )
        created_at = a["created_at"]

        await w.set_status(code, "Cancelled")
        ev = await w.until(lambda e: e["attendees"][code]["active"] is False, "Ada deactivated")
        assert ev["attendees"][code]["status"] == "New"  # deactivation keeps the record as it was

        await w.set_status(code, "Attended")
        ev = await w.until(
            lambda e: e["attendees"][code]["active"] and e["attendees"][code]["status"] == "Attended",
            "Ada back",
        )
        assert ev["attendees"][code]["created_at"] == created_at  # the same attendee, reactivated
        await w.drain()
        ev = await w.tp_event()
        assert other not in ev["attendees"]

        # The dashboard and `eventsync insights` show the Touchpoint flow as a configured flow.
        tp = w.defs.touchpoint
        assert tp is not None
        insights = await InsightsCollector(client, w.defs).collect(minutes=60, name=tp.name)
        [flow] = [f for f in insights.flows if f.name == tp.name]
        assert (flow.configured, flow.destination, flow.account) == (True, "touchpoint:touchpoint", tp.account)
        assert flow.totals.get("delivered", 0) >= 3, flow.totals  # New, Cancelled, Attended

        # event identity: renaming the event code keeps the Touchpoint event (keyed by eventId)
        await w.p("POST", f"/Event/ACME/{w.event_code}", json={"eventCode": "SUMMIT-2026"})
        w.event_code = "SUMMIT-2026"
        await w.set_status(code, "New")
        ev = await w.until(lambda e: e["attendees"][code]["event_code"] == "SUMMIT-2026", "new code carried")
        assert ev["attendees"][code]["status"] == "New"
        assert len((await w.tp_state())["events"]) == 1


async def test_delete_on_leave(client: Client, task_queue: str) -> None:
    async with world(client, task_queue, on_leave="delete") as w:
        code = await w.register("cy@ex.com", "New")
        await w.until(lambda e: code in e["attendees"], "attendee created")
        await w.set_status(code, "Cancelled")
        await w.until(lambda e: code not in e["attendees"], "attendee deleted")


async def test_a_retried_older_webhook_arriving_last_does_not_win(client: Client, task_queue: str) -> None:
    """The platform retries a failed delivery without holding newer ones back, so the receiver
    sees sequence 2 before 1. Each delivery re-reads the record, so the newest state wins."""
    async with world(client, task_queue) as w:
        code = await w.register("dee@ex.com", "New")
        await w.until(lambda e: code in e["attendees"], "attendee created")
        await w.drain()
        hooks = w.platform.url + "/_sandbox/webhooks"
        cfg = (await w.http.get(hooks)).json()
        # deliveries signed with a wrong key are refused (401) and retried 3 s later
        await w.http.put(hooks, json={**cfg, "break_signature": True, "backoff_initial_s": 3.0})
        await w.set_status(code, "Cancelled")  # sequence 2

        async def first_attempt_failed() -> bool:
            r = await w.http.get(hooks + "/deliveries", params={"recordKey": code})
            d = [x for x in r.json()["deliveries"] if x["sequence"] == 2]
            return bool(d and d[0]["attempts"])

        await eventually(first_attempt_failed, "sequence 2 refused once")
        await w.http.put(hooks, json={**cfg, "backoff_initial_s": 3.0})
        await w.set_status(code, "Attended")  # sequence 3, delivered before 2's retry
        await w.drain()  # ... and now 2 has arrived too, last
        log = (await w.http.get(hooks + "/deliveries", params={"recordKey": code})).json()["deliveries"]
        last = {x["sequence"]: x["attempts"][-1]["at"] for x in log}
        assert last[2] > last[3]  # the older change really arrived last
        flow = w.defs.touchpoint.name  # type: ignore[union-attr]
        await eventually(lambda: _decided(client, flow, code, 3), "both deliveries decided", timeout=30)
        a = (await w.tp_event())["attendees"][code]
        assert a["active"] is True and a["status"] == "Attended"


async def _decided(client: Client, flow: str, record: str, n: int) -> bool:
    return len([line for line in await explain(flow, 2, record) if line.startswith("delivered")]) >= n


async def test_refused_registrant_parks_visibly_later_changes_wait_and_retry_delivers(
    client: Client, task_queue: str
) -> None:
    async with world(client, task_queue) as w:
        reg = await w.p(
            "POST",
            f"/Registration/ACME/{w.event_code}",
            json={"profile": {"firstName": "No", "lastName": "Mail"}, "registrationStatusLabel": "New"},
        )
        code = reg["registrationCode"]
        flow = w.defs.touchpoint.name  # type: ignore[union-attr]
        handle = client.get_workflow_handle(shard_workflow_id(flow, shard_of(code, 2)))

        async def parked() -> bool:
            try:
                return code in (await handle.query(SignalShardWorkflow.summary)).parked
            except RPCError:  # the shard starts with the first webhook
                return False

        await eventually(parked, "the registrant without email parks")
        reason = (await handle.query(SignalShardWorkflow.summary)).parked[code].reason
        assert "no email" in reason and "Touchpoint requires" in reason

        async def searchable() -> bool:
            query = f"EventsyncKind='flow' AND EventsyncStatus='parked' AND EventsyncRecords='{code}'"
            return any([wf async for wf in client.list_workflows(query)])

        await eventually(searchable, "the parked record is found in the Web UI's search")
        # fixed on the platform: that change's webhook waits behind the parked event
        await w.p(
            "POST", f"/Registration/ACME/{w.event_code}/{code}", json={"profile": {"email": "m@ex.com"}}
        )
        await w.drain()

        async def held() -> bool:
            return any(line.startswith("held") for line in await explain(flow, 2, code))

        await eventually(held, "the later change is held behind the parked one")
        assert code not in (await w.tp_event())["attendees"]
        await handle.signal(
            SignalShardWorkflow.on_retry, OperatorAction(record=code, by="ops", reason="email added")
        )
        ev = await w.until(lambda e: e["attendees"][code]["email"] == "m@ex.com", "delivered after retry")
        assert ev["attendees"][code]["active"] is True
