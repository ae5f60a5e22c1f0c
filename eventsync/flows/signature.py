"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>", hex, 5-minute tolerance.

Header names and the signed string follow the platform emulator (sandbox/platform, docs);
they are constants here so that one place changes if the platform's format does.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

TIMESTAMP_HEADER = "X-Platform-Timestamp"
SIGNATURE_HEADER = "X-Platform-Signature"
SIGNATURE_PREFIX = "v1="
PLATFORM_PREFIX = "sha256="
TOLERANCE_S = 300
FUTURE_TOLERANCE_S = 60  # clocks drift a little; a delivery stamped further ahead is refused


class SignatureError(Exception):
    """Why a delivery was refused; `kind` picks the HTTP status (docs/flows.md)."""

    def __init__(self, kind: Literal["missing", "bad", "stale", "replayed"], message: str) -> None:
        super().__init__(message)
        self.kind = kind


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


@dataclass
class Verifier:
    """Checks signature and freshness; remembers recent signatures to refuse a replayed delivery.

    Several secrets may be valid at once (rotation). The replay memory is per receiver process:
    across receivers, the flow workflows' dedupe by event id is what keeps a replay harmless.
    """

    secrets: list[bytes]
    tolerance_s: int = TOLERANCE_S
    remember: int = 100_000

    def __post_init__(self) -> None:
        if not self.secrets:
            raise ValueError("a webhook verifier needs at least one secret")
        self._seen: OrderedDict[str, int] = OrderedDict()

    def verify(self, timestamp: str | None, signature: str | None, body: bytes, now: float) -> None:
        if not timestamp or not signature:
            missing = [h for h, v in ((TIMESTAMP_HEADER, timestamp), (SIGNATURE_HEADER, signature)) if not v]
            raise SignatureError("missing", f"missing header(s): {', '.join(missing)}")
        try:
            ts = int(timestamp)
        except ValueError:
            raise SignatureError("bad", f"{TIMESTAMP_HEADER} is not an integer of Unix seconds") from None
        given = signature.strip()
        if given.startswith(PLATFORM_PREFIX):
            # The platform (sandbox/platform, docs/sandbox.md) labels the same HMAC "sha256=".
            given = SIGNATURE_PREFIX + given[len(PLATFORM_PREFIX) :]
        # Compare against every candidate with compare_digest, never short-circuiting on content.
        ok = False
        for secret in self.secrets:
            ok |= hmac.compare_digest(sign(secret, ts, body).encode(), given.encode())
        if not ok:
            raise SignatureError("bad", "signature does not match the body and timestamp")
        if now - ts > self.tolerance_s or ts - now > min(self.tolerance_s, FUTURE_TOLERANCE_S):
            raise SignatureError(
                "stale",
                f"timestamp is {int(now - ts)} s from now (tolerance {self.tolerance_s} s past, "
                f"{min(self.tolerance_s, FUTURE_TOLERANCE_S)} s ahead)",
            )
        if given in self._seen:
            raise SignatureError("replayed", "this signed delivery was already accepted")

    def accepted(self, signature: str, now: float, timestamp: str | None = None) -> None:
        """Remember a delivery only once it was durably accepted: a retry of one we failed must pass."""
        key = signature.strip()
        if key.startswith(PLATFORM_PREFIX):  # remembered as verify() compares it
            key = SIGNATURE_PREFIX + key[len(PLATFORM_PREFIX) :]
        # Remembered by the delivery's own stamp when it is ahead of us: it stays valid that long.
        stamp = int(timestamp) if timestamp and timestamp.lstrip("-").isdigit() else int(now)
        self._seen[key] = max(int(now), stamp)
        self._seen.move_to_end(key)
        horizon = now - self.tolerance_s
        while self._seen and (len(self._seen) > self.remember or next(iter(self._seen.values())) < horizon):
            self._seen.popitem(last=False)
