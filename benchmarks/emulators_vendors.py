"""Requests per second of the vendor emulators (Marketo, Eloqua, Salesforce, HubSpot) on loopback.

Each emulator runs in its own process under uvicorn (so the client's work does not share
its GIL), with its rate limits lifted; an httpx async client keeps ``--concurrency`` requests
in flight for ``--seconds`` per scenario and counts answers. Every loop is bounded in time
and in count.

    .venv/bin/python benchmarks/emulators_vendors.py [--seconds 2.5] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

UNLIMITED: dict[str, dict[str, Any]] = {
    "marketo": {"rate_limit": 10**9, "daily_quota": 10**9, "max_concurrent": 10**6},
    "eloqua": {},
    "salesforce": {"daily_api_limit": 10**9},
    "hubspot": {"ten_secondly_limit": 10**9, "daily_limit": 10**9},
}


def _serve(vendor: str, port: int) -> None:
    import importlib

    import uvicorn

    module = importlib.import_module(f"sandbox.{vendor}")
    app = module.create_app(**UNLIMITED[vendor])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Scenario:
    vendor: str
    name: str
    setup: Callable[[httpx.Client], dict[str, str]]  # returns auth headers
    request: Callable[[int], tuple[str, str, dict[str, Any]]]  # i -> method, path, httpx kwargs


def _batch(n: int, i: int) -> list[int]:
    return [(i * n + k) % 500 for k in range(n)]


def _marketo_auth(c: httpx.Client) -> dict[str, str]:
    r = c.get(
        "/identity/oauth/token",
        params={
            "grant_type": "client_credentials",
            "client_id": "sandbox-marketo-client",
            "client_secret": "sandbox-marketo-secret",
        },
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _eloqua_auth(c: httpx.Client) -> dict[str, str]:
    raw = base64.b64encode(b"SandboxCo\\api.user:sandbox-password").decode()
    return {"Authorization": f"Basic {raw}"}


def _sf_auth(c: httpx.Client) -> dict[str, str]:
    r = c.post(
        "/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-salesforce-client",
            "client_secret": "sandbox-salesforce-secret",
        },
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _hs_auth(c: httpx.Client) -> dict[str, str]:
    return {"Authorization": "Bearer pat-na1-sandbox-0000"}


SCENARIOS = [
    Scenario(
        "marketo",
        "sync leads x10",
        _marketo_auth,
        lambda i: (
            "POST",
            "/rest/v1/leads.json",
            {"json": {"input": [{"email": f"u{k}@example.com", "firstName": str(i)} for k in _batch(10, i)]}},
        ),
    ),
    Scenario(
        "marketo",
        "filter read",
        _marketo_auth,
        lambda i: (
            "GET",
            "/rest/v1/leads.json",
            {"params": {"filterType": "email", "filterValues": f"u{i % 500}@example.com"}},
        ),
    ),
    Scenario(
        "eloqua",
        "REST contacts page",
        _eloqua_auth,
        lambda i: ("GET", "/api/REST/1.0/data/contacts", {"params": {"page": 1, "count": 10}}),
    ),
    Scenario(
        "eloqua",
        "REST contact create",
        _eloqua_auth,
        lambda i: (
            "POST",
            "/api/REST/1.0/data/contact",
            {"json": {"emailAddress": f"b{i}-{time.monotonic_ns()}@example.com"}},
        ),
    ),
    Scenario(
        "salesforce",
        "collections upsert x10",
        _sf_auth,
        lambda i: (
            "PATCH",
            "/services/data/v62.0/composite/sobjects/Contact/Email_Ext__c",
            {
                "json": {
                    "records": [
                        {"attributes": {"type": "Contact"}, "Email_Ext__c": f"k{k}", "LastName": str(i)}
                        for k in _batch(10, i)
                    ]
                }
            },
        ),
    ),
    Scenario(
        "salesforce",
        "SOQL LIMIT 10",
        _sf_auth,
        lambda i: ("GET", "/services/data/v62.0/query", {"params": {"q": "SELECT Id FROM Contact LIMIT 10"}}),
    ),
    Scenario(
        "hubspot",
        "batch upsert x10",
        _hs_auth,
        lambda i: (
            "POST",
            "/crm/v3/objects/contacts/batch/upsert",
            {
                "json": {
                    "inputs": [
                        {
                            "idProperty": "email",
                            "id": f"u{k}@example.com",
                            "properties": {"firstname": str(i)},
                        }
                        for k in _batch(10, i)
                    ]
                }
            },
        ),
    ),
    Scenario(
        "hubspot",
        "list page of 10",
        _hs_auth,
        lambda i: ("GET", "/crm/v3/objects/contacts", {"params": {"limit": 10}}),
    ),
]


async def _drive(
    url: str, headers: dict[str, str], sc: Scenario, seconds: float, concurrency: int
) -> tuple[int, int]:
    ok = bad = 0
    counter = 0
    deadline = time.monotonic() + seconds
    max_requests = 200_000  # a hard bound besides the clock

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as client:

        async def worker() -> None:
            nonlocal ok, bad, counter
            while time.monotonic() < deadline and counter < max_requests:
                counter += 1
                method, path, kw = sc.request(counter)
                r = await client.request(method, path, **kw)
                if r.status_code < 300 and not (sc.vendor == "marketo" and r.json().get("success") is False):
                    ok += 1
                else:
                    bad += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, bad


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.5, help="per scenario (two per emulator)")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--serve", nargs=2, metavar=("VENDOR", "PORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        _serve(args.serve[0], int(args.serve[1]))
        return
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    results: list[dict[str, Any]] = []
    for vendor in UNLIMITED:
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve", vendor, str(port)], cwd=root
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(f"{url}/_sandbox/state", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            with httpx.Client(base_url=url, timeout=10) as c:
                for sc in [s for s in SCENARIOS if s.vendor == vendor]:
                    headers = sc.setup(c)
                    asyncio.run(_drive(url, headers, sc, 0.3, args.concurrency))  # warm up
                    t0 = time.monotonic()
                    ok, bad = asyncio.run(_drive(url, headers, sc, args.seconds, args.concurrency))
                    elapsed = time.monotonic() - t0
                    row = {
                        "emulator": vendor,
                        "scenario": sc.name,
                        "ok": ok,
                        "errors": bad,
                        "req_per_s": round((ok + bad) / elapsed, 1),
                    }
                    results.append(row)
                    print(json.dumps(row), flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print()
    print(f"{'emulator':<12}{'scenario':<26}{'req/s':>9}{'errors':>8}")
    for r in results:
        print(f"{r['emulator']:<12}{r['scenario']:<26}{r['req_per_s']:>9}{r['errors']:>8}")


if __name__ == "__main__":
    main()
