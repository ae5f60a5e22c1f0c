"""Requests/s of the platform, Touchpoint, webhook-receiver and REST-source emulators on
loopback, so we know they are not the bottleneck of other benchmarks.

Each emulator runs under uvicorn in its own process (as ``eventsync sandbox`` runs it);
the load comes from this process with httpx over keep-alive connections. Every scenario is
bounded by time (``--seconds``, default 5).

    python -m benchmarks.emulators [--seconds 5] [--concurrency 16] [--only platform-bulk]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from sandbox.serving import free_port

AUTH = ("sandbox", "sandbox")
TP = {"Authorization": "Bearer tp-sandbox-token"}
API = "/certainExternal/service/v1"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (Linux /proc), so figures can be given per server
    CPU-second, which other load on the machine does not distort."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


SERVER_PIDS: dict[str, int] = {}


@contextmanager
def server(factory: str, kwargs: dict[str, Any] | None = None) -> Iterator[str]:
    """Run ``factory(**kwargs)`` under uvicorn in a child process; yield its base URL."""
    port = free_port()
    code = (
        "import json, sys, uvicorn, importlib\n"
        f"mod, fn = {factory!r}.split(':')\n"
        f"app = getattr(importlib.import_module(mod), fn)(**json.loads({json.dumps(kwargs or {})!r}))\n"
        f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning', access_log=False)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": os.getcwd()})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/_sandbox/faults", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"{factory} did not start") from None
                time.sleep(0.05)
        SERVER_PIDS[url] = proc.pid
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class Result:
    name: str
    requests: int
    records: int
    seconds: float
    errors: int
    server_cpu: float = float("nan")

    def line(self) -> str:
        rps = self.requests / self.seconds
        per_cpu = self.requests / self.server_cpu if self.server_cpu > 0 else float("nan")
        rec = f", {self.records / self.seconds:.0f} records/s" if self.records != self.requests else ""
        return (
            f"{self.name:44s} {rps:7.0f} req/s{rec}; {per_cpu:6.0f} req per server CPU-s"
            f"  ({self.requests} req, {self.errors} err, {self.seconds:.1f} s wall, {self.server_cpu:.2f} s server CPU)"
        )


async def drive(
    name: str,
    client: httpx.AsyncClient,
    one: Callable[[httpx.AsyncClient, int], Awaitable[int]],
    seconds: float,
    concurrency: int,
) -> Result:
    """Call ``one(client, n)`` from ``concurrency`` tasks until time is up; ``one`` returns
    the records it moved, or raises/returns -1 on error."""
    stop = time.monotonic() + seconds
    counts = {"req": 0, "rec": 0, "err": 0}
    seq = iter(range(10**9))

    async def worker() -> None:
        while time.monotonic() < stop:
            try:
                n = await one(client, next(seq))
            except httpx.HTTPError:
                n = -1
            counts["req"] += 1
            if n < 0:
                counts["err"] += 1
            else:
                counts["rec"] += n

    pid = SERVER_PIDS.get(str(client.base_url).rstrip("/"))
    cpu0 = cpu_seconds(pid) if pid else float("nan")
    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - t0
    cpu = cpu_seconds(pid) - cpu0 if pid else float("nan")
    return Result(name, counts["req"], counts["rec"], elapsed, counts["err"], cpu)


def ok(r: httpx.Response, n: int = 1) -> int:
    return n if r.status_code < 400 else -1


async def bench_webhook(seconds: float, conc: int) -> list[Result]:
    with server("sandbox.webhook:create_app") as url:
        async with httpx.AsyncClient(
            base_url=url, limits=httpx.Limits(max_connections=conc), timeout=30
        ) as c:

            async def post(c: httpx.AsyncClient, i: int) -> int:
                return ok(
                    await c.post("/hooks/in", json={"id": i, "email": f"u{i}@example.org", "status": "New"})
                )

            return [await drive("webhook: POST record", c, post, seconds, conc)]


async def bench_restsource(seconds: float, conc: int) -> list[Result]:
    with server("sandbox.restsource:create_app", {"count": 5000}) as url:
        async with httpx.AsyncClient(
            base_url=url, limits=httpx.Limits(max_connections=conc), timeout=30
        ) as c:

            async def page(c: httpx.AsyncClient, i: int) -> int:
                r = await c.get("/api/page", params={"page": i % 50 + 1, "count": 100})
                return ok(r, len(r.json()["elements"]) if r.status_code == 200 else 0)

            async def filtered(c: httpx.AsyncClient, i: int) -> int:
                r = await c.get(f"/api/offset?offset={(i % 40) * 100}&limit=100&lastUpdatedAt>'1767226000'")
                return ok(r, len(r.json()["items"]) if r.status_code == 200 else 0)

            return [
                await drive("restsource: page of 100", c, page, seconds, conc),
                await drive("restsource: filtered offset of 100", c, filtered, seconds, conc),
            ]


async def bench_platform(seconds: float, conc: int, only: str | None) -> list[Result]:
    out: list[Result] = []
    seed = {"events": 2, "registrations_per_event": 5000, "sessions_per_event": 20}
    with server("sandbox.platform:create_app", {"seed": seed}) as url:
        async with httpx.AsyncClient(
            base_url=url, auth=AUTH, limits=httpx.Limits(max_connections=conc), timeout=30
        ) as c:
            base = f"{API}/Registration/DEMO/SUMMIT26"

            async def create(c: httpx.AsyncClient, i: int) -> int:
                body = {"profile": {"email": f"bench{i}@example.org", "firstName": "B"}}
                return ok(await c.post(base, json=body))

            async def bulk(c: httpx.AsyncClient, i: int) -> int:
                regs = [
                    {"profile": {"email": f"bulk{i}-{j}@example.org"}, "registrationStatusLabel": "New"}
                    for j in range(500)
                ]
                return ok(
                    await c.post(f"{API}/BulkRegistration/DEMO/EXPO26", json={"registrations": regs}), 500
                )

            async def read(c: httpx.AsyncClient, i: int) -> int:
                r = await c.get(base, params={"max_results": 100, "start_index": (i % 50) * 100})
                return ok(r, r.json()["size"] if r.status_code == 200 else 0)

            async def read_tags(c: httpx.AsyncClient, i: int) -> int:
                r = await c.get(
                    base, params={"max_results": 100, "start_index": (i % 50) * 100, "includeList": "all"}
                )
                return ok(r, r.json()["size"] if r.status_code == 200 else 0)

            scenarios = [
                ("platform: create registration", create),
                ("platform: bulk upsert (500/req)", bulk),
                ("platform: list page of 100", read),
                ("platform: list page of 100, all includes", read_tags),
            ]
            for name, fn in scenarios:
                if only is None or only in name:
                    out.append(await drive(name, c, fn, seconds, conc))

        if only is None or "webhook" in only:
            with server("sandbox.webhook:create_app") as hook_url:
                async with httpx.AsyncClient(base_url=url, auth=AUTH, timeout=120) as c:
                    await c.put(
                        "/_sandbox/webhooks",
                        json={"url": f"{hook_url}/in", "secret": "s", "concurrency": 16},
                    )

                    async def create_hooked(c: httpx.AsyncClient, i: int) -> int:
                        body = {"profile": {"email": f"hooked{i}@example.org"}}
                        return ok(await c.post(f"{API}/Registration/DEMO/EXPO26", json=body))

                    made = await drive("platform: create + signed webhook", c, create_hooked, seconds, conc)
                    t0 = time.monotonic()
                    await c.post("/_sandbox/webhooks/drain", params={"timeout": 120})
                    total = made.seconds + time.monotonic() - t0
                    delivered = (
                        await c.get("/_sandbox/webhooks/deliveries", params={"state": "delivered"})
                    ).json()
                    out.append(made)
                    out.append(
                        Result(
                            "platform: webhooks delivered (end to end)",
                            delivered["count"],
                            delivered["count"],
                            total,
                            0,
                        )
                    )
    return out


async def bench_touchpoint(seconds: float, conc: int) -> list[Result]:
    with server("sandbox.touchpoint:create_app") as url:
        async with httpx.AsyncClient(
            base_url=url, headers=TP, limits=httpx.Limits(max_connections=conc)
        ) as c:

            async def put(c: httpx.AsyncClient, i: int) -> int:
                body = {"first_name": "A", "last_name": "B", "email": f"a{i}@example.org"}
                return ok(await c.put(f"/api/v1/events/1001/attendees/R{i:08d}", json=body))

            async def links(c: httpx.AsyncClient, i: int) -> int:
                code = f"S{i % 50:03d}"
                await c.put(f"/api/v1/events/1001/sessions/{code}", json={"title": "T"})
                r = await c.put(
                    f"/api/v1/events/1001/sessions/{code}/related-links",
                    json={"links": [{"title": "Slides", "url": f"https://x.test/{i}"}]},
                )
                return ok(r, 2)

            return [
                await drive("touchpoint: upsert attendee", c, put, seconds, conc),
                await drive("touchpoint: session + links (2 req)", c, links, seconds, conc),
            ]


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--only", help="substring of a scenario or emulator name")
    args = ap.parse_args()
    seconds = min(args.seconds, 30.0)
    results: list[Result] = []
    only = args.only
    if only is None or "webhook" == only:
        results += await bench_webhook(seconds, args.concurrency)
    if only is None or "restsource" in only:
        results += await bench_restsource(seconds, args.concurrency)
    if only is None or "platform" in only:
        results += await bench_platform(
            seconds, args.concurrency, None if only in (None, "platform") else only
        )
    if only is None or "touchpoint" in only:
        results += await bench_touchpoint(seconds, args.concurrency)
    print(f"\nemulator throughput on loopback, {args.concurrency} concurrent clients, {seconds:.0f} s each")
    for r in results:
        print(r.line())


if __name__ == "__main__":
    asyncio.run(main())
