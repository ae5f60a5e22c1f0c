"""The Signal benchmark's own parts (benchmarks/signal_load.py) tell the truth: the sender's
webhooks pass the receiver's real checks, and the sink catches loss, repeats and disorder.
A harness that cannot see a duplicate would report a broken engine as exactly-once."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from benchmarks.signal import definitions
from benchmarks.signal_load import event_body, read_message, request, serve_sink, signed_request
from eventsync.flows.decide import render
from eventsync.flows.events import parse_body
from eventsync.flows.signature import Verifier
from eventsync.registration import registration_of
from sandbox.serving import free_port

SECRET = b"harness-secret"


def _headers(raw: bytes) -> tuple[dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")[1:]
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in lines)}, body


def test_sender_webhooks_pass_the_receivers_checks_and_the_mapping_carries_the_stamps() -> None:
    due = time.time()
    eid, body = event_body("r1", 7, 3, due)  # record 1, sequence 3
    raw = signed_request(
        "127.0.0.1:1", "/webhooks/platform", eid, "registration.updated", body, SECRET, int(due), 1
    )
    headers, sent = _headers(raw)
    assert sent == body and int(headers["Content-Length"]) == len(body)
    Verifier([SECRET]).verify(headers["X-Platform-Timestamp"], headers["X-Platform-Signature"], body, now=due)
    (ev,) = parse_body(json.loads(body))
    assert (ev.id, ev.record_key, ev.sequence, ev.type) == (eid, "r1R1", 3, "registration.updated")
    flow = definitions("http://127.0.0.1:1", 4).flows[0]
    current = registration_of(ev.record, ev.event_code)
    out = render(flow, ev, current, current)
    assert out["code"] == "r1R1" and out["seq"] == 3 and abs(float(out["stamp"]) - due) < 1e-5


async def _post(port: int, path: str, doc: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request("POST", f"127.0.0.1:{port}", path, json.dumps(doc).encode(), headers or {}))
        first, _, got = await read_message(reader)
        return int(first.split(b" ", 2)[1]), json.loads(got) if got else None
    finally:
        writer.close()


async def test_sink_counts_repeats_disorder_and_answers_503_in_its_outage() -> None:
    port = free_port()
    server = asyncio.create_task(serve_sink(port))
    try:
        for _ in range(100):
            try:
                await _post(port, "/_bench/reset", {"run": "x", "records": 10})
                break
            except OSError:
                await asyncio.sleep(0.05)
        now = time.time()

        def rec(r: int, seq: int) -> dict[str, Any]:
            return {"code": f"xR{r}", "seq": seq, "stamp": f"{now:.6f}"}

        assert (await _post(port, "/hook", rec(1, 1), {"Idempotency-Key": "k1"}))[0] == 200
        await _post(port, "/hook", rec(1, 1), {"Idempotency-Key": "k1"})  # a repeat, same key
        await _post(port, "/hook", rec(1, 1), {"Idempotency-Key": "k1-other"})  # same event, other key
        await _post(port, "/hook", rec(2, 2), {"Idempotency-Key": "k2"})
        # A batch: each record's key in the header, in body order; record 2's seq 1 after its seq 2.
        await _post(port, "/hook", [rec(2, 1), rec(3, 1)], {"X-Eventsync-Idempotency-Keys": "k3,k4"})
        await _post(port, "/hook", {"code": "otherR1", "seq": 1}, {"Idempotency-Key": "k5"})
        _, st = await _post(port, "/_bench/stats", {})
        assert st["duplicates_by_key"] == 1
        assert st["duplicates_other_key"] == 1
        assert st["out_of_order"] == 1
        assert st["other_runs"] == 1
        # delivered ids are (seq - 1) * records + record
        assert sorted(st["delivered_ids"]) == [1, 2, 3, 12]
        assert st["latency_p99_ms"] is not None and st["latency_p99_ms"] >= 0

        await _post(
            port, "/_bench/reset", {"run": "y", "records": 10, "outage_from": 0, "outage_to": now + 60}
        )
        assert (await _post(port, "/hook", rec(1, 1), {"Idempotency-Key": "k1"}))[0] == 503
        _, st = await _post(port, "/_bench/stats", {})
        assert st["delivered"] == 0 and st["answered_503"] == 1
    finally:
        server.cancel()
