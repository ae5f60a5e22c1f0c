"""Pieces shared by the vendor emulators (Marketo, Eloqua, Salesforce, HubSpot).

Each emulator keeps its knobs in a dataclass of settings whose defaults are the documented
vendor values; ``create_app(**settings)`` builds it with ``make_settings`` (an unknown name
is an error naming it), and ``PATCH /_sandbox/settings`` changes knobs on a running app.
``Gate`` holds requests in flight on demand, so that concurrency limits can be tested
without racing the clock.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi import APIRouter, Body, HTTPException

S = TypeVar("S")

# Deliberately simple: the vendors reject what an address obviously is not; exotic but
# valid forms are not what the sync tests are about.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)


def valid_email(value: object) -> bool:
    return isinstance(value, str) and value.isascii() and bool(_EMAIL.match(value))


def make_settings(cls: type[S], overrides: dict[str, Any]) -> S:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise TypeError(f"{cls.__name__}: unknown setting(s) {unknown}; known: {sorted(names)}")
    return cls(**overrides)


def patch_settings(settings: Any, changes: dict[str, Any]) -> None:
    names = {f.name for f in dataclasses.fields(settings)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise HTTPException(400, f"unknown setting(s) {unknown}; known: {sorted(names)}")
    for k, v in changes.items():
        setattr(settings, k, v)


def expire_now(tokens: Iterable[Any]) -> int:
    """Expire every live token (objects with a monotonic ``expires_at``); how many were live."""
    now = time.monotonic()
    live = [t for t in tokens if t.expires_at > now]
    for t in live:
        t.expires_at = now
    return len(live)


class SlidingWindow:
    """Counts calls in the last ``window_s`` seconds (a true sliding window)."""

    def __init__(self) -> None:
        self.stamps: deque[float] = deque()

    def _trim(self, window_s: float, now: float) -> None:
        while self.stamps and self.stamps[0] <= now - window_s:
            self.stamps.popleft()

    def count(self, window_s: float) -> int:
        self._trim(window_s, time.monotonic())
        return len(self.stamps)

    def try_hit(self, limit: int, window_s: float) -> bool:
        now = time.monotonic()
        self._trim(window_s, now)
        if len(self.stamps) >= limit:
            return False
        self.stamps.append(now)
        return True

    def oldest_age(self) -> float:
        return time.monotonic() - self.stamps[0] if self.stamps else 0.0

    def clear(self) -> None:
        self.stamps.clear()


class Gate:
    """While closed, requests that pass through ``wait()`` stay in flight until opened."""

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self.closed = False
        self.waiting = 0

    def close(self) -> None:
        if self.closed:
            return  # requests already waiting keep their event
        self.closed = True
        self._event = asyncio.Event()

    def open(self) -> None:
        self.closed = False
        if self._event is not None:
            self._event.set()

    async def wait(self) -> None:
        if not self.closed or self._event is None:
            return
        self.waiting += 1
        try:
            await self._event.wait()
        finally:
            self.waiting -= 1


def admin_router(
    *,
    settings: Any,
    state: Callable[[], dict[str, Any]],
    reset: Callable[[], None],
    expire_tokens: Callable[[], int],
    gate: Gate,
) -> APIRouter:
    """The admin routes every vendor emulator has; vendors add their own beside these."""
    router = APIRouter(prefix="/_sandbox", tags=["sandbox admin"])
    initial = copy.deepcopy(dataclasses.asdict(settings))

    @router.get("/state")
    async def get_state() -> dict[str, Any]:
        return state()

    @router.post("/reset")
    async def do_reset() -> dict[str, bool]:
        """Clear all state and put back the settings the app was created with."""
        gate.open()
        for k, v in copy.deepcopy(initial).items():
            setattr(settings, k, v)
        reset()
        return {"reset": True}

    @router.get("/settings")
    async def get_settings() -> dict[str, Any]:
        return dataclasses.asdict(settings)

    @router.patch("/settings")
    async def set_settings(changes: dict[str, Any] = Body(...)) -> dict[str, Any]:
        patch_settings(settings, changes)
        return dataclasses.asdict(settings)

    @router.post("/expire-tokens")
    async def do_expire() -> dict[str, int]:
        return {"expired": expire_tokens()}

    @router.post("/hold")
    async def hold() -> dict[str, bool]:
        """Requests that reach the emulator's work stay in flight until /release."""
        gate.close()
        return {"held": True}

    @router.post("/release")
    async def release() -> dict[str, int]:
        waiting = gate.waiting
        gate.open()
        return {"released": waiting}

    return router


async def form_fields(request: Any) -> dict[str, str]:
    """An urlencoded body as a dict (python-multipart is not a dependency)."""
    from urllib.parse import parse_qs

    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


class Index:
    """Record ids by the normalized value of some fields, so that a batch of lookups costs
    O(batch) rather than O(batch x records). Callers remove a record before changing it
    and add it back after."""

    def __init__(self, fields: list[str], norm: Callable[[str, Any], str]) -> None:
        self.norm = norm
        self.maps: dict[str, dict[str, set[Any]]] = {f: {} for f in fields}

    def add(self, rid: Any, rec: dict[str, Any]) -> None:
        for f, m in self.maps.items():
            if rec.get(f) not in (None, ""):
                m.setdefault(self.norm(f, rec[f]), set()).add(rid)

    def remove(self, rid: Any, rec: dict[str, Any]) -> None:
        for f, m in self.maps.items():
            if rec.get(f) not in (None, ""):
                ids = m.get(self.norm(f, rec[f]))
                if ids is not None:
                    ids.discard(rid)

    def covers(self, field: str) -> bool:
        return field in self.maps

    def find(self, field: str, value: Any) -> list[Any]:
        return sorted(self.maps[field].get(self.norm(field, value), ()))
