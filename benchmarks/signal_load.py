"""The processes around the engine in benchmarks/signal.py, each cheap enough not to be what is
measured: a load generator (the platform's webhooks), a destination sink and a no-durability
forwarder. Raw HTTP/1.1 over asyncio streams, keep-alive, no framework, no httpx.

    python -m benchmarks.signal_load sink --port P
    python -m benchmarks.signal_load forwarder --port P --sink http://127.0.0.1:S/hook
    python -m benchmarks.signal_load sender --url URL --run RUN --events N --records K --rate R ...

**Sender.** Event i is record `i % K`, sequence `i // K + 1`: one signed webhook per event in
the platform's format (sandbox/platform/webhooks.py: body, X-Platform-* headers, HMAC-SHA256 of
"timestamp.body"), built and signed before the clock starts, each stamped with its scheduled
send time (custom registration properties BenchSeq and BenchSent, which the flow's mapping
copies to the destination). A record always goes out on the same connection and the next
event only after the previous one was answered: per-record order, as the platform keeps it
when nothing fails. Open loop: event i is due at t0 + i/rate (all at t0 for capacity runs); a
connection that falls behind sends late, and the latency, measured from the scheduled time,
counts the wait (no coordinated omission). A non-2xx answer or a broken connection is retried
on the same connection (re-signed, same event id, as the platform does) up to --attempts.
Its cost, measured against the sink on this 2-core VM: 0.03 ms per webhook flat out, 0.08 ms at
2,000/s; at 50-200/s 0.2-0.4 ms, nearly all kernel time in send() (waking the receiving process
over loopback), user time ~0.08-0.15 ms: both are reported per run.

**Sink.** POST anything but /_bench/*: a JSON object is one record, a JSON array a batch (each
record's key in X-Eventsync-Idempotency-Keys, in order). Per record it checks order (a
sequence below one already delivered is out of order), duplicates by Idempotency-Key and by
(record, sequence), and latency now - BenchSent of first deliveries. During the configured
outage window it answers 503 and counts nothing as delivered. `/_bench/reset` (JSON: run,
records, outage_from, outage_to) starts a phase; `/_bench/stats` reports it.

**Forwarder.** The baseline: verifies the signature, parses the event, renders the same body
as the flow's mapping and POSTs it to the sink on its own keep-alive connection, answering the
platform only after the sink answered (no store, no retry: what a simple relay costs).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import statistics
import sys
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

EVENT_CODE = "SUMMIT26"
ACCOUNT = "DEMO"
FLOW = "bench"

# ---- raw HTTP/1.1 ----------------------------------------------------------------------------------


async def read_head(reader: asyncio.StreamReader) -> tuple[bytes, dict[bytes, bytes]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower()] = v.strip()
    return lines[0], headers


async def read_message(reader: asyncio.StreamReader) -> tuple[bytes, dict[bytes, bytes], bytes]:
    first, headers = await read_head(reader)
    n = int(headers.get(b"content-length", b"0"))
    body = await reader.readexactly(n) if n else b""
    return first, headers, body


def response(status: int, body: bytes = b"{}", reason: str = "OK") -> bytes:
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def request(method: str, host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + b"\r\n" + body


# ---- events in the platform's format ----------------------------------------------------------------


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def record_code(run: str, r: int) -> str:
    return f"{run}R{r}"


def event_body(run: str, i: int, records: int, due: float) -> tuple[str, bytes]:
    """Event i as the platform sends it: `registration.created` first, then `registration.updated`."""
    r, seq = i % records, i // records + 1
    code = record_code(run, r)
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(due)) + f".{int(due * 1000) % 1000:03d}Z"
    eid = str(uuid.UUID(int=random.getrandbits(128), version=4))
    record = {
        "pkRegId": r + 1,
        "registrationCode": code,
        "accountCode": ACCOUNT,
        "eventCode": EVENT_CODE,
        "eventId": 1001,
        "attendeeTypeCode": "ATT",
        "attendeeType": "Attendee",
        "registrationStatusLabel": "New",
        "registrationStatusClassification": "Accepted",
        "isActive": True,
        "isConfirmed": True,
        "dateCreated": iso,
        "dateModified": iso,
        "statusModified": iso,
        "profile": {
            "firstName": "Ada",
            "lastName": f"Lovelace{r}",
            "email": f"{code.lower()}@example.com",
            "organization": "Analytical Engines",
            "position": None,
            "phone": None,
            "phoneMobile": None,
            "externalKey": code,
            "pin": f"P{r:08d}",
            "pkProfileId": r + 1,
        },
        "registrationQuestions": {"question": []},
        "customProperties": [
            {"propertyId": 9001, "name": "BenchSeq", "value": seq},
            {"propertyId": 9002, "name": "BenchSent", "value": f"{due:.6f}"},
        ],
        "tags": {
            "event": [{"tagId": 10, "name": "Signal: Flagship", "label": "Signal: Flagship"}],
            "registrationStatus": [
                {"tagId": 1, "name": "Touchpoint: Synced", "label": "Touchpoint: Synced"},
                {"tagId": 3, "name": "Signal: Registered", "label": "Signal: Registered"},
            ],
            "attendeeType": [],
        },
    }
    kind = "registration.created" if seq == 1 else "registration.updated"
    event = {
        "id": eid,
        "type": kind,
        "occurredAt": iso[:19] + "Z",
        "accountCode": ACCOUNT,
        "eventCode": EVENT_CODE,
        "eventId": 1001,
        "object": "registration",
        "recordKey": code,
        "sequence": seq,
        "data": record,
    }
    return eid, json.dumps(event, separators=(",", ":")).encode()


def signed_request(
    host: str, path: str, eid: str, kind: str, body: bytes, secret: bytes, ts: int, attempt: int
) -> bytes:
    return request(
        "POST",
        host,
        path,
        body,
        {
            "User-Agent": "eventsync-bench-platform/1",
            "X-Platform-Event-Id": eid,
            "X-Platform-Event-Type": kind,
            "X-Platform-Timestamp": str(ts),
            "X-Platform-Signature": sign(secret, ts, body),
            "X-Platform-Delivery-Attempt": str(attempt),
        },
    )


# ---- the sender ----------------------------------------------------------------------------------------


async def send_all(a: argparse.Namespace) -> dict[str, Any]:
    targets = [urlsplit(x) for x in a.url]
    secret = a.secret.encode()
    t0 = a.start_at
    rate = a.rate
    # Built and signed before the clock starts; a retry re-signs (the platform's behaviour).
    lanes: list[list[tuple[int, float, str, str, bytes]]] = [[] for _ in range(a.conns)]
    # Lane j talks to receiver j % len(targets).
    where = [(t.hostname or "127.0.0.1", t.port or 80, t.path) for t in targets]
    for i in range(a.events):
        due = t0 if rate <= 0 else t0 + i / rate
        eid, body = event_body(a.run, i, a.records, due)
        kind = "registration.created" if i < a.records else "registration.updated"
        ts = int(due)
        j = (i % a.records) % a.conns
        host, port, path = where[j % len(where)]
        req = signed_request(f"{host}:{port}", path, eid, kind, body, secret, ts, 1)
        lanes[j].append((i, due, eid, kind, req))  # the body is the request's tail: held once
    accepted: list[int] = []
    statuses: dict[str, int] = {}
    lags: list[float] = []
    refused: list[int] = []
    built_at = time.time()
    if built_at > t0:
        print(f"sender: building took past the start ({built_at - t0:.1f} s late)", file=sys.stderr)
    cpu0 = os.times()

    async def lane(j: int, items: list[tuple[int, float, str, str, bytes]]) -> None:
        host, port, path = where[j % len(where)]
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        for i, due, eid, kind, req in items:
            wait = due - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            lags.append(time.time() - due)
            for attempt in range(1, a.attempts + 1):
                if attempt > 1:
                    await asyncio.sleep(min(5.0, a.retry_s * 2 ** (attempt - 2)))
                    req = signed_request(
                        f"{host}:{port}",
                        path,
                        eid,
                        kind,
                        req[req.index(b"\r\n\r\n") + 4 :],
                        secret,
                        int(time.time()),
                        attempt,
                    )
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    assert reader is not None
                    writer.write(req)
                    first, headers = await read_head(reader)
                    n = int(headers.get(b"content-length", b"0"))
                    if n:
                        await reader.readexactly(n)
                    st = first[9:12].decode()
                    if headers.get(b"connection") == b"close":
                        writer.close()
                        writer = None
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    st = "conn-error"
                    if writer is not None:
                        writer.close()
                    writer = None
                statuses[st] = statuses.get(st, 0) + 1
                if st.startswith("2"):
                    accepted.append(i)
                    break
            else:
                refused.append(i)
        if writer is not None:
            writer.close()

    await asyncio.gather(*(lane(j, items) for j, items in enumerate(lanes) if items))
    done = time.time()
    t1 = os.times()
    user, system = t1.user - cpu0.user, t1.system - cpu0.system
    webhooks = max(1, sum(statuses.values()))
    lags.sort()
    return {
        "events": a.events,
        "accepted": len(accepted),
        "refused_after_retries": len(refused),
        "answers": statuses,
        "send_window_s": round(done - t0, 3),
        "sent_until": done,
        "sender_lag_p50_ms": round(1000 * lags[len(lags) // 2], 2) if lags else None,
        "sender_lag_p99_ms": round(1000 * lags[int(0.99 * (len(lags) - 1))], 2) if lags else None,
        "sender_cpu_ms_per_webhook": round(1000 * (user + system) / webhooks, 4),
        # At low rates nearly all of it is kernel time in send(): waking the receiving process on
        # loopback (a VM here); flat out, wake-ups batch and the cost falls to ~0.03 ms.
        "sender_user_ms_per_webhook": round(1000 * user / webhooks, 4),
        "accepted_ids": sorted(accepted),
    }


# ---- the sink ------------------------------------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.reset({})

    def reset(self, cfg: dict[str, Any]) -> None:
        self.run = str(cfg.get("run", ""))
        self.records = int(cfg.get("records", 1))
        self.outage = (float(cfg.get("outage_from", 0)), float(cfg.get("outage_to", 0)))
        self.keys: set[str] = set()
        self.pairs: set[tuple[int, int]] = set()
        self.high: dict[int, int] = {}
        self.latencies: list[float] = []
        self.delivered: list[int] = []
        self.dup_keys = 0
        self.dup_pairs = 0
        self.out_of_order = 0
        self.calls = 0
        self.answered_503 = 0
        self.foreign = 0
        self.first_at = 0.0
        self.last_at = 0.0
        self.keyless = 0

    def take(self, headers: dict[bytes, bytes], body: bytes) -> int:
        now = time.time()
        self.calls += 1
        if self.outage[0] <= now < self.outage[1]:
            self.answered_503 += 1
            return 503
        doc = json.loads(body)
        if isinstance(doc, list):
            keys = headers.get(b"x-eventsync-idempotency-keys", b"").decode().split(",")
            items = list(zip(keys, doc, strict=False))
        else:
            items = [(headers.get(b"idempotency-key", b"").decode(), doc)]
        prefix = self.run + "R"
        for key, rec in items:
            code = str(rec.get("code") or "")
            if not code.startswith(prefix):
                self.foreign += 1  # an earlier phase's record: not this phase's business
                continue
            if not key:
                self.keyless += 1
            elif key in self.keys:
                self.dup_keys += 1
                continue
            self.keys.add(key)
            r, seq = int(code[len(prefix) :]), int(rec.get("seq") or 0)
            if (r, seq) in self.pairs:
                self.dup_pairs += 1  # the same event under another key: a repeat a destination cannot see
                continue
            self.pairs.add((r, seq))
            if seq < self.high.get(r, 0):
                self.out_of_order += 1
            else:
                self.high[r] = seq
            self.latencies.append(now - float(rec.get("stamp") or now))
            self.delivered.append((seq - 1) * self.records + r)
            self.first_at = self.first_at or now
            self.last_at = now
        return 200

    def stats(self, full: bool) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            return round(1000 * lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 1) if lat else None

        out: dict[str, Any] = {
            "delivered": len(self.delivered),
            "calls": self.calls,
            "answered_503": self.answered_503,
            "duplicates_by_key": self.dup_keys,
            "duplicates_other_key": self.dup_pairs,
            "out_of_order": self.out_of_order,
            "keyless": self.keyless,
            "other_runs": self.foreign,
            "first_at": self.first_at,
            "last_at": self.last_at,
            "latency_p50_ms": pct(50),
            "latency_p99_ms": pct(99),
            "latency_max_ms": round(1000 * lat[-1], 1) if lat else None,
            "latency_mean_ms": round(1000 * statistics.fmean(lat), 1) if lat else None,
        }
        if full:
            out["delivered_ids"] = self.delivered
        return out


async def serve_sink(port: int) -> None:
    sink = Sink()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                first, headers, body = await read_message(reader)
                path = first.split(b" ", 2)[1]
                if path.startswith(b"/_bench/"):
                    if path.startswith(b"/_bench/reset"):
                        sink.reset(json.loads(body or b"{}"))
                        out = b'{"reset":true}'
                    elif path.startswith(b"/_bench/count"):  # the driver's drain poll: cheap
                        out = b'{"delivered":%d}' % len(sink.delivered)
                    else:
                        out = json.dumps(sink.stats(full=True)).encode()
                    writer.write(response(200, out))
                    continue
                try:
                    st = sink.take(headers, body)
                except (ValueError, AttributeError, TypeError):
                    st = 400
                writer.write(response(st, b"{}" if st == 200 else b'{"error":"sink"}', "X"))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


# ---- the no-durability forwarder -----------------------------------------------------------------------


async def serve_forwarder(port: int, sink_url: str, secret: bytes) -> None:
    u = urlsplit(sink_url)
    shost, sport, spath = u.hostname or "127.0.0.1", u.port or 80, u.path

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_r: asyncio.StreamReader | None = None
        up_w: asyncio.StreamWriter | None = None
        try:
            while True:
                _, headers, body = await read_message(reader)
                ts = headers.get(b"x-platform-timestamp", b"0").decode()
                given = headers.get(b"x-platform-signature", b"").decode()
                if (
                    not hmac.compare_digest(sign(secret, int(ts), body), given)
                    or abs(time.time() - int(ts)) > 300
                ):
                    writer.write(response(401, b'{"error":"signature"}', "Unauthorized"))
                    continue
                ev = json.loads(body)
                rec = ev["data"]
                props = {p["name"]: p.get("value") for p in rec.get("customProperties") or []}
                out = {
                    "code": rec.get("registrationCode"),
                    "email": rec.get("profile", {}).get("email"),
                    "status": rec.get("registrationStatusLabel"),
                    "sent": rec.get("dateCreated"),
                    "seq": props.get("BenchSeq"),
                    "stamp": props.get("BenchSent"),
                }
                key = hashlib.sha256(f"{FLOW}\x00{ev['id']}".encode()).hexdigest()[:32]
                fwd = request(
                    "POST", f"{shost}:{sport}", spath, json.dumps(out).encode(), {"Idempotency-Key": key}
                )
                try:
                    if up_w is None:
                        up_r, up_w = await asyncio.open_connection(shost, sport)
                    assert up_r is not None
                    up_w.write(fwd)
                    first, _, _ = await read_message(up_r)
                    st = int(first.split(b" ", 2)[1])
                except (OSError, asyncio.IncompleteReadError):
                    st = 502
                    up_w = None
                writer.write(
                    response(200) if 200 <= st < 300 else response(503, b'{"error":"upstream"}', "X")
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            if up_w is not None:
                up_w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["sender", "sink", "forwarder"])
    ap.add_argument("--port", type=int)
    ap.add_argument("--sink")
    ap.add_argument("--secret", default="bench-secret")
    ap.add_argument("--url", action="append", help="sender: repeat to spread connections over receivers")
    ap.add_argument("--run")
    ap.add_argument("--events", type=int)
    ap.add_argument("--records", type=int)
    ap.add_argument("--rate", type=float, default=0.0, help="events/s; 0: all due at once")
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--start-at", type=float, help="epoch seconds of event 0")
    ap.add_argument("--attempts", type=int, default=4)
    ap.add_argument("--retry-s", type=float, default=0.5)
    ap.add_argument("--out", help="sender: write the summary JSON here")
    a = ap.parse_args()
    if a.role == "sink":
        asyncio.run(serve_sink(a.port))
    elif a.role == "forwarder":
        asyncio.run(serve_forwarder(a.port, a.sink, a.secret.encode()))
    else:
        result = asyncio.run(send_all(a))
        with open(a.out, "w") as f:
            json.dump(result, f)
    os._exit(0)


if __name__ == "__main__":
    main()
