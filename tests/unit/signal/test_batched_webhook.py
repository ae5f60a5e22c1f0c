"""The opt-in batched webhook destination (`destination.batch`): one call per batch, a JSON array of
the records' bodies, per-record outcomes from a 207 answer; against the sandbox webhook receiver."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from eventsync.definitions.connections import Connection
from eventsync.definitions.flows import FlowDefinition
from eventsync.destinations.base import BATCH_KEYS_HEADER, IDEMPOTENCY_HEADER
from eventsync.destinations.webhook import batch_results
from eventsync.flows.delivery import deliver_batch
from eventsync.flows.sharding import idempotency_key
from eventsync.http import ConnectionPool
from sandbox import webhook
from sandbox.serving import served
from tests.unit.destinations.support import platform_event


def _flow(batch: bool, batch_size: int | None = None) -> FlowDefinition:
    return FlowDefinition.model_validate(
        {
            "name": f"wh-{uuid.uuid4().hex[:6]}",
            "source": {"account": "ACME", "events": ["registration.created", "registration.status_changed"]},
            "destination": {
                "kind": "webhook",
                "connection": "dest",
                "path": "/hook",
                "batch": batch,
                "mapping": {
                    "fields": {"code": "$.record.registrationCode", "email": "$.record.profile.email"}
                },
            },
            "batching": {"batch_size": batch_size},
        }
    )


async def _run(
    url: str, flow: FlowDefinition, codes: list[str], keys: dict[str, str] | None = None
) -> tuple[list[Any], list[dict[str, Any]]]:
    conn = Connection.model_validate({"name": "dest", "base_url": url})
    events = [platform_event(c) for c in codes]
    if keys is not None:
        keys.update({e.record_key: idempotency_key(flow.name, e.id) for e in events})
    pool = ConnectionPool()
    try:
        out = await deliver_batch(pool, flow, conn, events)
    finally:
        await pool.aclose()
    async with httpx.AsyncClient() as http:
        reqs = (await http.get(url + "/_sandbox/requests")).json()["requests"]
    return [(o.record_key, o.outcome, o.status) for o in out], reqs


async def test_a_batch_goes_as_one_array_with_each_records_key_in_order() -> None:
    flow = _flow(batch=True, batch_size=3)
    codes = ["B1", "B2", "B3", "B4"]
    keys: dict[str, str] = {}
    with served(webhook.create_app()) as w:
        got, reqs = await _run(w.url, flow, codes, keys)
    assert got == [(c, "delivered", 200) for c in codes]
    assert sorted(len(r["json"]) for r in reqs) == [1, 3]  # batch_size splits the activity's items
    assert sorted(rec["code"] for r in reqs for rec in r["json"]) == codes
    for r in reqs:
        # each record's own key (the one a single call would carry) at its position in the body
        listed = r["headers"][BATCH_KEYS_HEADER.lower()].split(",")
        assert listed == [keys[rec["code"]] for rec in r["json"]]
        assert len(r["headers"][IDEMPOTENCY_HEADER.lower()]) == 32


async def test_a_207_parks_only_the_rejected_record_and_a_503_retries_all() -> None:
    flow = _flow(batch=True)
    with served(webhook.create_app()) as w:
        async with httpx.AsyncClient() as http:
            rule = {"field": "code", "equals": "BAD", "status": 422, "error": "no such person"}
            await http.put(w.url + "/_sandbox/config", json={"reject": [rule]})
        got, reqs = await _run(w.url, flow, ["OK1", "BAD", "OK2"])
        assert len(reqs) == 1 and reqs[0]["status"] == 207
        assert got == [("OK1", "delivered", 207), ("BAD", "rejected", 422), ("OK2", "delivered", 207)]
        async with httpx.AsyncClient() as http:
            await http.post(w.url + "/_sandbox/reset")
            await http.post(w.url + "/_sandbox/faults", json={"path": "/hook", "status": 503, "times": 1})
        got, _ = await _run(w.url, flow, ["R1", "R2"])
        assert [o for _, o, _ in got] == ["retry", "retry"]


async def test_without_batch_each_record_is_its_own_call() -> None:
    flow = _flow(batch=False)
    keys: dict[str, str] = {}
    with served(webhook.create_app()) as w:
        got, reqs = await _run(w.url, flow, ["S1", "S2"], keys)
    assert [o for _, o, _ in got] == ["delivered", "delivered"]
    assert sorted((r["json"]["code"], r["headers"]["idempotency-key"]) for r in reqs) == sorted(
        (c, keys[c]) for c in ["S1", "S2"]
    )


def test_batch_results_reads_per_record_entries_and_classifies_codes() -> None:
    from eventsync.destinations.base import DeliveryItem

    items = [DeliveryItem(f"e{i}", f"r{i}", f"k{i}", {}) for i in range(4)]
    body = (
        '{"results": [{"index": 0, "status": "ok"}, {"index": 1, "status": "error", "code": 429},'
        ' {"index": 2, "status": "error", "code": 400, "error": "bad email"}, {"index": 3, "status": "ok"}]}'
    )
    got = [(r.event_id, r.outcome, r.status) for r in batch_results(items, 207, body)]
    assert got == [("e0", "ok", 207), ("e1", "retry", 429), ("e2", "rejected", 400), ("e3", "ok", 207)]
    assert [r.outcome for r in batch_results(items, 200, "not json")] == ["ok"] * 4
