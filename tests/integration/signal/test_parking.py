"""Parking, held events, retry and discard; a destination outage; bad webhooks."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from temporalio.client import Client

from client.flow_control import explain, operate, parked, shard_ids
from tests.integration.signal.harness import (
    destination,
    event,
    flow_def,
    post_event,
    receiver,
    signed_headers,
    wait_for,
)
from worker.main import build_worker


async def _until(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = await check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("condition never held")
        await asyncio.sleep(0.2)


async def test_rejected_record_parks_later_events_wait_retry_delivers_in_order_discard_drops(
    client: Client, task_queue: str
) -> None:
    reject = {
        "reject": [
            {"field": "code", "equals": "P1", "status": 422},
            {"field": "code", "equals": "P2", "status": 400},
        ]
    }
    with destination(**reject) as dest:
        defs, flow = flow_def(dest.url)
        async with httpx.AsyncClient() as http, build_worker(client, task_queue):
            with receiver(client, defs, task_queue) as rx:
                for i in range(3):
                    for rec in ("P1", "P2", "OK"):
                        assert (await post_event(http, rx.url, event(rec, i))).status_code == 200
                await wait_for(dest, lambda d: d.seqs("OK") == [0, 1, 2])

                async def both_parked() -> bool:
                    recs = {p.record_key for p in await parked(flow.name)}
                    return recs == {"P1", "P2"}

                await _until(both_parked)
                d = await wait_for(dest, lambda d: True)
                assert d.seqs("P1") == [] and d.seqs("P2") == []
                tried = [r for r in d.requests if r["json"] and r["json"].get("code") == "P1"]
                assert {r["json"]["seq"] for r in tried} == {0}  # events 1 and 2 held, never sent

                # the destination is fixed; retry P1: all three go, in order
                await http.put(dest.url + "/_sandbox/config", json={})
                assert await operate(client, "retry", flow.name, "P1", "alice", "mapping fixed") >= 1
                d = await wait_for(dest, lambda d: d.seqs("P1") == [0, 1, 2])
                await operate(client, "discard", flow.name, "P2", "bob", "test registrant")

                async def p2_discarded() -> list[dict[str, Any]]:
                    got = await explain(flow.name, "P2")
                    return [e for e in got if e["decision"] == "discarded"]

                gone = await _until(p2_discarded)
                assert len(gone) == 3 and {e["by"] for e in gone} == {"bob"}
                assert {e["detail"] for e in gone} == {"test registrant"}
                assert not await parked(flow.name)
                p1 = await explain(flow.name, "P1")
                decisions = [e["decision"] for e in p1]
                assert "parked" in decisions and "retried" in decisions and decisions.count("delivered") == 3
                assert (await wait_for(dest, lambda d: True)).seqs("P2") == []


async def test_destination_outage_loses_nothing_and_resumes_by_itself(
    client: Client, task_queue: str
) -> None:
    with destination() as dest:
        async with httpx.AsyncClient() as http:
            # an outage: the next 25 calls answer 503, whatever is retried
            await http.post(dest.url + "/_sandbox/faults", json={"path": "/hook", "status": 503, "times": 25})
            defs, _ = flow_def(dest.url)
            async with build_worker(client, task_queue):
                with receiver(client, defs, task_queue) as rx:
                    recs = [f"O{i}" for i in range(10)]
                    for i in range(2):
                        for rec in recs:
                            assert (await post_event(http, rx.url, event(rec, i))).status_code == 200
                    d = await wait_for(dest, lambda d: all(d.seqs(r) == [0, 1] for r in recs), timeout=90)
    assert sum(1 for r in d.requests if r["status"] == 503) == 25


async def test_each_bad_webhook_gets_its_4xx_and_starts_nothing(client: Client, task_queue: str) -> None:
    with destination() as dest:
        defs, flow = flow_def(dest.url)
        async with httpx.AsyncClient() as http:
            with receiver(client, defs, task_queue) as rx:
                url = rx.url + "/webhooks/platform"
                good = json.dumps(event("B1", 0)).encode()
                deep = b"[" * 100_000 + b"]" * 100_000
                huge = json.dumps(event("B1", 1)).encode().replace(b'"seq": 1', b'"seq": ' + b"7" * 5000)
                nested: dict[str, object] = {"x": 1}
                for _ in range(500):
                    nested = {"n": nested}
                deep_data = json.dumps({**event("B1", 2), "data": {"registrationCode": "B1", "deep": nested}}).encode()
                surrogate = json.dumps(event("B1", 3)).encode().replace(b'"Registered"', b'"\\ud800"')

                async def send(body: bytes, headers: dict[str, str]) -> httpx.Response:
                    return await http.post(url, content=body, headers=headers)

                cases: list[tuple[str, bytes, dict[str, str], int]] = [
                    ("no signature", good, {"Content-Type": "application/json"}, 401),
                    ("wrong secret", good, signed_headers(good, secret=b"nope"), 401),
                    ("body changed after signing", good + b" ", signed_headers(good), 401),
                    ("stale timestamp", good, signed_headers(good, ts=int(time.time()) - 600), 409),
                    ("not JSON", b"{oops", signed_headers(b"{oops"), 400),
                    (
                        "no record code",
                        b'{"id":"x","type":"registration.created","account":"ACME","data":{}}',
                        signed_headers(
                            b'{"id":"x","type":"registration.created","account":"ACME","data":{}}'
                        ),
                        400,
                    ),
                    (
                        "unknown type",
                        json.dumps({**event("B1", 0), "type": "invoice.paid"}).encode(),
                        {},
                        422,
                    ),
                    ("oversized", b"x" * 300_000, signed_headers(b"x" * 300_000), 413),
                    ("nested very deep", deep, signed_headers(deep), 400),
                    ("a 5,000-digit number", huge, signed_headers(huge), 400),
                    ("data nested 500 deep", deep_data, signed_headers(deep_data), 400),
                    ("a lone surrogate", surrogate, signed_headers(surrogate), 400),
                ]
                for name, body, headers, want in cases:
                    r = await send(body, headers or signed_headers(body))
                    assert r.status_code == want, (name, r.status_code, r.text)
                    assert r.headers["content-type"].startswith("application/problem+json"), name
                    assert r.json()["status"] == want and r.json()["detail"], name
                # a replay of exactly the same signed delivery, after it was accepted: 409
                ok_headers = signed_headers(good)
                assert (await send(good, ok_headers)).status_code == 200
                assert (await send(good, ok_headers)).status_code == 409
                # health and readiness
                assert (await http.get(rx.url + "/healthz")).status_code == 200
                assert (await http.get(rx.url + "/readyz")).status_code == 200
        # only the one good delivery started anything; no worker ran, so nothing was delivered
        ids = await _until(lambda: shard_ids(client, flow.name))
        assert len(ids) == 1
        assert len((await wait_for(dest, lambda d: True)).requests) == 0
