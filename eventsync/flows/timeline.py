"""Counts over time for the metrics dashboard, kept inside a flow shard's durable state.

A shard's `Counters` only grow; the timeline turns them into per-minute buckets by noting the
difference since the last observation (`observe`), so the counting code stays where it is. The
buckets travel with the state through continue-as-new, so a dashboard reading Temporal (the
shard's `summary` query, or a finished run's result) sees the same history whichever process asks
and whenever it started. Pure and deterministic: the time is passed in (workflow time).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

BUCKET_S = 60
# Sparse buckets (only minutes with activity are kept): 360 is six hours of non-stop traffic,
# ~100 B each, small beside the rest of the state carried across continue-as-new.
MAX_BUCKETS = 360
MAX_REASONS = 50  # distinct skip reasons counted by name; the rest add up under OTHER_REASON
OTHER_REASON = "(other)"
COUNTED = ("received", "duplicates", "activated", "skipped", "delivered", "parked", "discarded")


class Counters(BaseModel):
    """A shard's running totals (it only grows); a `Bucket` holds the same counts for a minute."""

    received: int = 0
    duplicates: int = 0
    activated: int = 0
    skipped: int = 0
    delivered: int = 0
    parked: int = 0
    discarded: int = 0
    skipped_by: dict[str, int] = Field(default_factory=dict)  # skips by the rule that decided


class Bucket(Counters):
    t: int  # start of the minute, Unix seconds


class Timeline(BaseModel):
    buckets: list[Bucket] = Field(default_factory=list)  # oldest first
    last: dict[str, int] = Field(default_factory=dict)  # counters at the last observation
    last_skipped_by: dict[str, int] = Field(default_factory=dict)

    def observe(self, now: float, counters: Counters, skipped_by: dict[str, int]) -> None:
        values = {k: int(getattr(counters, k, 0)) for k in COUNTED}
        delta = {k: v - self.last.get(k, 0) for k, v in values.items()}
        reasons = {r: n - self.last_skipped_by.get(r, 0) for r, n in skipped_by.items()}
        reasons = {r: n for r, n in reasons.items() if n > 0}
        self.last = values
        self.last_skipped_by = dict(skipped_by)
        if not any(v > 0 for v in delta.values()) and not reasons:
            return
        t = int(now) - int(now) % BUCKET_S
        if not self.buckets or self.buckets[-1].t < t:
            self.buckets.append(Bucket(t=t))
            del self.buckets[:-MAX_BUCKETS]
        b = self.buckets[-1]
        for k, v in delta.items():
            if v > 0:
                setattr(b, k, getattr(b, k) + v)
        for r, n in reasons.items():
            b.skipped_by[r] = b.skipped_by.get(r, 0) + n


def count_reason(skipped_by: dict[str, int], rule: str) -> None:
    """Count one skip under its rule, keeping the number of distinct names bounded."""
    name = rule or "(unnamed rule)"
    if name not in skipped_by and len(skipped_by) >= MAX_REASONS:
        name = OTHER_REASON
    skipped_by[name] = skipped_by.get(name, 0) + 1


def merge(timelines: list[list[Bucket]], since: float | None = None) -> list[Bucket]:
    """Sum several shards' buckets minute by minute (oldest first), from `since` on."""
    by_t: dict[int, Bucket] = {}
    for buckets in timelines:
        for b in buckets:
            if since is not None and b.t + BUCKET_S <= since:
                continue
            acc = by_t.setdefault(b.t, Bucket(t=b.t))
            for k in COUNTED:
                setattr(acc, k, getattr(acc, k) + getattr(b, k))
            for r, n in b.skipped_by.items():
                acc.skipped_by[r] = acc.skipped_by.get(r, 0) + n
    return [by_t[t] for t in sorted(by_t)]


__all__ = ["Bucket", "Timeline", "count_reason", "merge", "BUCKET_S"]
