"""Per-worker access-token cache, keyed by connection.

One token request serves every concurrent caller (a lock per key), a token is refreshed
shortly before it expires, and a token the server rejected is dropped only if no other
caller has replaced it already — so a burst of 401s triggers one re-authentication.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    expires_at: float | None = None  # epoch seconds; None = until the server rejects it (Salesforce)
    refresh_token: str | None = field(default=None, repr=False)
    extra: dict[str, str] = field(default_factory=dict, repr=False)  # e.g. Salesforce instance_url


class TokenCache:
    def __init__(self, *, refresh_margin_s: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        self._tokens: dict[str, Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._margin = refresh_margin_s
        self._clock = clock
        self.fetches: dict[str, int] = {}

    def _fresh(self, token: Token) -> bool:
        if token.expires_at is None:
            return True
        return self._clock() < token.expires_at - self._margin

    async def get(self, key: str, fetch: Callable[[Token | None], Awaitable[Token]]) -> Token:
        """The cached token, or a new one from ``fetch(previous)`` (previous allows a refresh grant)."""
        token = self._tokens.get(key)
        if token is not None and self._fresh(token):
            return token
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            token = self._tokens.get(key)
            if token is not None and self._fresh(token):
                return token
            new = await fetch(token)
            self._tokens[key] = new
            self.fetches[key] = self.fetches.get(key, 0) + 1
            return new

    def invalidate(self, key: str, rejected: Token) -> None:
        current = self._tokens.get(key)
        if current is not None and current.access_token == rejected.access_token:
            # Keep the refresh token: a refresh grant can still use it.
            self._tokens[key] = Token(
                "", expires_at=0.0, refresh_token=current.refresh_token, extra=current.extra
            )

    def clear(self) -> None:
        self._tokens.clear()
