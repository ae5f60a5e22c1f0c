"""API Fetch end to end: sandbox REST source → Jolt → platform Bulk Registration Upsert, and in
the same run the same job done by a plain asyncio + httpx loop with no durability.

    .venv/bin/python -m benchmarks.fetch [--records 50000 200000] [--page 1000] [--pages-per-activity N]
        [--source-latency-ms 0 50] [--target-latency-ms 0]

The plain loop reads page N+1 while it transforms (the same `eventsync.fetch.transform` the
engine uses, so the comparison measures durability, not Jolt) and upserts page N in chunks of
500; it runs in its own process, as the worker does, against a second event of the same
platform emulator. Reported per configuration: both records/s and their ratio.

Each size gets a fresh Temporal dev server (SQLite, WAL) and a fresh worker, both separate
processes; the emulators (REST source, platform) run in this driver process. One fetch run
syncs every record (1,000 per page, a shift + default + modify Jolt chain, upserts of 500
registrations matched by email). Reported: records/s from the trigger to the run's result,
the worker's peak RSS (VmHWM), and the CPU seconds of each process. The machine is shared;
figures are lower bounds. `--source-latency-ms` / `--target-latency-ms` add a delay to every
source page / upsert request (the emulators' fault knobs), as a remote API would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx  # noqa: E402

from benchmarks.env import production_env
from client import fetch_control as fc  # noqa: E402
from client.schedules import put_schedule, run_input  # noqa: E402
from eventsync.definitions import Definitions  # noqa: E402
from eventsync.fetch.models import FetchRunResult  # noqa: E402
from sandbox import restsource  # noqa: E402
from sandbox.platform import app as platform_app  # noqa: E402
from sandbox.serving import free_port, served  # noqa: E402
from worker.connect import connect  # noqa: E402
from workflows import search_attributes as sa  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TASK_QUEUE = "bench-fetch"

JOLT: list[dict[str, Any]] = [
    {
        "operation": "shift",
        "spec": {
            "email": "profile.email",
            "name": {"first": "profile.firstName", "last": "profile.lastName"},
            "company": {"name": "profile.organization", "address": {"city": "profile.city"}},
            "id": "profile.externalKey",
            "tags": {"*": "tags[]"},
            "updatedAt": "sourceUpdatedAt",
        },
    },
    {"operation": "default", "spec": {"profile": {"position": "Attendee"}, "source": "restsource"}},
    {
        "operation": "modify-overwrite-beta",
        "spec": {"profile": {"externalKey": "=toString", "email": "=toLower", "firstName": "=toUpper"}},
    },
]


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _definitions(
    source: str, platform: str, page: int, event: dict[str, str], group: int | None
) -> Definitions:
    return Definitions.model_validate(
        {
            "connections": [
                {"name": "src", "base_url": source, "timeout_s": 60},
                {
                    "name": "platform",
                    "vendor": "platform",
                    "base_url": platform,
                    "timeout_s": 60,
                    "auth": {
                        "kind": "basic",
                        "username": "sandbox",
                        "password": "${env:BENCH_PLATFORM_PASSWORD}",
                    },
                },
            ],
            "fetches": [
                {
                    "name": "bench",
                    "request": {"connection": "src", "path": "/api/page?lastUpdatedAt>='{{since}}'"},
                    "pagination": {
                        "style": "page_number",
                        "base": 1,
                        "size": page,
                        "page_param": "page",
                        "size_param": "count",
                    },
                    "records": "$.elements",
                    "checkpoint": {
                        "field": "$.updatedAt",
                        "initial": 0,
                        "variable": "since",
                        "format": "epoch",
                        "sorted": True,
                    },
                    "transform": JOLT,
                    "target": {
                        "kind": "platform_bulk_upsert",
                        "connection": "platform",
                        "account": event["accountCode"],
                        "event": event["eventCode"],
                        "chunk_size": 500,
                    },
                    "limits": {
                        "page_timeout_s": 300,
                        **({} if group is None else {"pages_per_activity": group}),
                    },
                }
            ],
        }
    )


def _spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


async def _wait_up(address: str) -> Any:
    for _ in range(300):
        try:
            return await connect(address, "default")
        except Exception:
            await asyncio.sleep(0.1)
    raise TimeoutError(address)


async def plain_loop(source: str, platform: str, page: int, account: str, event: str) -> int:
    """The baseline: no checkpoint, no retries, no durability; read-ahead of one page."""
    from eventsync.fetch import transform
    from eventsync.platform.api import bulk_upsert_path

    chain = transform.compile_chain(JOLT)
    assert chain is not None
    path = bulk_upsert_path(account, event)
    applied = 0
    async with (
        httpx.AsyncClient(base_url=source, timeout=60) as src,
        httpx.AsyncClient(base_url=platform, timeout=60, auth=("sandbox", "sandbox")) as dst,
    ):

        def read(n: int) -> asyncio.Task[httpx.Response]:
            url = f"/api/page?lastUpdatedAt>='0'&page={n}&count={page}"
            return asyncio.create_task(src.get(url))

        n, ahead = 1, read(1)
        while ahead is not None:
            resp = await ahead
            resp.raise_for_status()
            rows = resp.json()["elements"]
            ahead = read(n + 1) if len(rows) == page else None
            n += 1
            out = [o for r in rows for o in transform.outputs(chain(r))]
            for i in range(0, len(out), 500):
                r = await dst.post(path, json={"matchBy": "email", "registrations": out[i : i + 500]})
                r.raise_for_status()
                applied += len(r.json()["results"])
    return applied


def _plain_main(argv: list[str]) -> None:
    source, platform, page, account, event = argv
    t0 = time.perf_counter()
    n = asyncio.run(plain_loop(source, platform, int(page), account, event))
    print(json.dumps({"records": n, "seconds": time.perf_counter() - t0}), flush=True)


async def _measure_plain(
    source: str, platform: str, page: int, event: dict[str, str], tmp: str
) -> dict[str, float]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.fetch", "--plain-loop",
        source, platform, str(page), event["accountCode"], event["eventCode"],
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    got = json.loads(out.decode().strip().splitlines()[-1])
    return {
        "records": got["records"],
        "seconds": got["seconds"],
        "records_per_s": got["records"] / got["seconds"],
    }


async def measure(
    records: int, page: int, group: int | None = None, source_ms: float = 0, target_ms: float = 0
) -> dict[str, float]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        served(
            restsource.create_app(
                count=records, ties=3, default_page_size=page, max_page_size=max(page, 1000)
            )
        ) as source,
        served(platform_app.create_app(bulk_max_records=1000)) as platform,
    ):
        port = free_port()
        server = _spawn(
            [str(Path(sys.executable).parent / "temporal"), "server", "start-dev", "--headless",
             "--db-filename", f"{tmp}/t.db", "--port", str(port), "--ui-port", str(free_port()),
             "--log-level", "error", "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=off",
             *sa.cli_flags()],
            Path(tmp) / "server.log",
        )  # fmt: skip
        address = f"127.0.0.1:{port}"
        worker: subprocess.Popen[bytes] | None = None
        try:
            client = await _wait_up(address)
            os.environ["BENCH_PLATFORM_PASSWORD"] = "sandbox"
            async with httpx.AsyncClient(base_url=platform.url) as http:
                await http.post(
                    "/_sandbox/populate",
                    json={"events": 2, "registrations_per_event": 0, "sessions_per_event": 0},
                )
                event, plain_event = (await http.get("/_sandbox/state")).json()["events"][:2]
                if target_ms:
                    rule = {"path": "/certainExternal/service/v1/BulkRegistration", "action": "delay"}
                    await http.post("/_sandbox/faults", json={**rule, "delay_s": target_ms / 1000})
            if source_ms:
                async with httpx.AsyncClient(base_url=source.url) as http:
                    rule = {"path": "/api/page", "action": "delay", "delay_s": source_ms / 1000}
                    await http.post("/_sandbox/faults", json=rule)
            defs = _definitions(source.url, platform.url, page, event, group)
            # The worker loads the definitions itself (JSON is YAML); the run names the fetch.
            defs_file = Path(tmp) / "eventsync.yaml"
            defs_file.write_text(json.dumps(defs.model_dump(mode="json", exclude_unset=True)))
            worker = _spawn(
                [sys.executable, "-m", "client", "worker", "--address", address, "--task-queue", TASK_QUEUE,
                 "-d", str(defs_file)],
                Path(tmp) / "worker.log",
            )  # fmt: skip
            await put_schedule(client, defs.fetches[0], run_input(defs, defs.fetches[0]), TASK_QUEUE)
            await asyncio.sleep(2)  # let the worker connect and poll before the clock starts
            cpu0 = {"server": _cpu_s(server.pid), "worker": _cpu_s(worker.pid), "driver": time.process_time()}
            t0 = time.perf_counter()
            handle = await fc.run_now(client, "bench")
            result: FetchRunResult = await client.get_workflow_handle(
                handle.id, result_type=FetchRunResult
            ).result()
            elapsed = time.perf_counter() - t0
            cpu = {
                "server": _cpu_s(server.pid) - cpu0["server"],
                "worker": _cpu_s(worker.pid) - cpu0["worker"],
                "driver+emulators": time.process_time() - cpu0["driver"],
            }
            async with httpx.AsyncClient(base_url=platform.url) as http:
                held = (await http.get("/_sandbox/state")).json()["events"][0]["registrations"]
            assert result.status == "done" and result.counts.applied == records == held, (result.counts, held)
            worker_rss = _peak_rss_mb(worker.pid)
            worker.terminate()
            worker.wait(timeout=30)
            plain = await _measure_plain(source.url, platform.url, page, plain_event, tmp)
            assert plain["records"] == records, plain
            return {
                "plain_records_per_s": plain["records_per_s"],
                "records": records,
                "seconds": elapsed,
                "records_per_s": records / elapsed,
                "pages": result.counts.pages,
                "worker_peak_rss_mb": worker_rss,
                **{f"cpu_s_{k}": v for k, v in cpu.items()},
            }
        finally:
            for proc in (worker, server):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    proc.wait(timeout=30)


def main() -> None:
    production_env()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument(
        "--pages-per-activity",
        type=int,
        default=None,
        help="limits.pages_per_activity (default: the definition's)",
    )
    parser.add_argument(
        "--source-latency-ms", type=float, nargs="+", default=[0, 50], help="delay added to each source page"
    )
    parser.add_argument(
        "--target-latency-ms", type=float, default=0, help="delay added to each upsert request"
    )
    if len(sys.argv) > 1 and sys.argv[1] == "--plain-loop":
        _plain_main(sys.argv[2:])
        os._exit(0)
    args = parser.parse_args()
    for latency in args.source_latency_ms:
        for n in args.records:
            r = asyncio.run(measure(n, args.page, args.pages_per_activity, latency, args.target_latency_ms))
            print(
                f"{int(r['records']):>8} records, {int(r['pages'])} pages, source {latency:.0f} ms/page: "
                f"eventsync {r['records_per_s']:,.0f} records/s ({r['seconds']:.1f} s), "
                f"plain loop {r['plain_records_per_s']:,.0f} records/s, "
                f"ratio {r['records_per_s'] / r['plain_records_per_s']:.2f}; "
                f"worker peak RSS {r['worker_peak_rss_mb']:.0f} MB; "
                f"CPU s: server {r['cpu_s_server']:.1f}, worker {r['cpu_s_worker']:.1f}, "
                f"driver+emulators {r['cpu_s_driver+emulators']:.1f}",
                flush=True,
            )
    os._exit(0)  # sdk-python#300: the native runtime can abort at interpreter exit


if __name__ == "__main__":
    main()
