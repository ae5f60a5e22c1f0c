"""Which workflow a record belongs to. Stable across processes and Python versions (no hash())."""

from __future__ import annotations

import hashlib


def shard_of(record_key: str, shards: int) -> int:
    digest = hashlib.blake2b(record_key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def workflow_id(flow: str, shard: int) -> str:
    return f"signal/{flow}/shard-{shard}"


def legacy_workflow_id(flow: str, shard: int) -> str:
    """The id of a first-design `FlowShard` run (still draining after an upgrade)."""
    return f"flow/{flow}/shard-{shard}"


def idempotency_key(flow: str, event_id: str) -> str:
    """Same flow + same event = same key, so a delivery retried after a crash is recognisable."""
    return hashlib.sha256(f"{flow}\x00{event_id}".encode()).hexdigest()[:32]
