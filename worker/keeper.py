"""The worker's housekeeping for Signal flows: every shard with events waiting is running, and
outcomes older than the retention window are pruned from the event store.

Receivers start a shard after they store its first events, but an event stored while Temporal
was unreachable (or a shard terminated by hand) would wait forever without this: at start and
every `EVERY_S` the worker starts (idempotently) each shard of its own flows that has pending
events in the store. While it runs, the retry-queue gauge reads its flows' counts from the store.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

from temporalio.client import Client

from client.shards import ensure_shard
from eventsync import telemetry
from eventsync.definitions import Definitions
from eventsync.store import StoreUnavailable, open_store
from eventsync.store.sql import DEFAULT_RETENTION_DAYS, RETENTION_ENV
from eventsync.store.watch import in_thread
from eventsync.touchpoint.flow import all_flows

log = logging.getLogger("eventsync.keeper")
EVERY_S = 30.0
PRUNE_EVERY_S = 3600.0


def retention_s() -> float:
    raw = os.environ.get(RETENTION_ENV, "").strip()
    try:
        days = float(raw) if raw else DEFAULT_RETENTION_DAYS
    except ValueError:
        raise ValueError(f"{RETENTION_ENV}={raw!r} is not a number of days") from None
    return days * 86_400


class Keeper:
    def __init__(self, client: Client, defs: Definitions, task_queue: str) -> None:
        self.client = client
        self.defs = defs
        self.task_queue = task_queue
        self.flows = {f.name: f for f in all_flows(defs)}
        self.pruned_at = 0.0

    async def once(self) -> int:
        store = open_store()
        started = 0
        for flow_name, shard in await in_thread(store.pending_shards):
            flow = self.flows.get(flow_name)
            if flow is None:
                continue  # another deployment's flow, or one removed: not ours to run
            await ensure_shard(self.client, self.defs, flow, shard, self.task_queue)
            started += 1
        if time.time() - self.pruned_at >= PRUNE_EVERY_S:
            self.pruned_at = time.time()
            gone = await in_thread(store.prune, time.time() - retention_s())
            if gone:
                log.info("pruned %d settled event(s) older than the retention window", gone)
        return started

    def parked(self) -> dict[str, int]:
        """This worker's flows' retry queues, for the `eventsync.parked` gauge (read at collection,
        on the metrics exporter's thread: the store keeps one connection per thread)."""
        return {f: n for f, n in open_store().parked_by_flow().items() if f in self.flows}

    async def run(self) -> None:
        telemetry.observe_parked(self.parked)
        try:
            while True:
                try:
                    await self.once()
                except StoreUnavailable as err:
                    log.warning("keeper: %s", err)
                except asyncio.CancelledError:
                    raise
                except Exception as err:  # noqa: BLE001 - housekeeping must never stop the worker
                    log.warning("keeper: %s: %s", type(err).__name__, err)
                await asyncio.sleep(EVERY_S)
        finally:
            telemetry.observe_parked(None)
