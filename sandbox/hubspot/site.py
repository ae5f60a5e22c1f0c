"""What every HubSpot resource router shares: the settings, the in-memory state, the request
guard (private-app or OAuth token, the daily and ten-secondly limits, held requests), the
`X-HubSpot-RateLimit-*` headers and the error body."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from sandbox import faults
from sandbox.vendor_common import Gate, Index, SlidingWindow

STANDARD_PROPERTIES = (
    "email firstname lastname company jobtitle phone city country website lifecyclestage".split()
)


@dataclass
class HubSpotSettings:
    private_app_tokens: list[str] = field(default_factory=lambda: ["pat-na1-sandbox-0000"])
    client_id: str = "sandbox-hubspot-client"
    client_secret: str = "sandbox-hubspot-secret"
    redirect_uri: str = "http://127.0.0.1/oauth/callback"
    access_token_ttl_s: float = 1800.0
    ten_secondly_limit: int = 100  # requests per burst window (Free/Starter)
    burst_window_s: float = 10.0
    daily_limit: int = 250_000  # reset only through /_sandbox/reset or /_sandbox/reset-daily
    max_batch: int = 100
    max_page_size: int = 100
    extra_properties: list[str] = field(default_factory=lambda: ["registration_code", "event_status"])
    unique_properties: list[str] = field(default_factory=lambda: ["email", "registration_code"])
    # Upsert answers 200 when every input succeeded; with errors, this status ([U]: the docs
    # name 207 only for batch create).
    partial_failure_status: int = 207
    # HubSpot does not promise results in input order; the emulator shuffles them (seeded).
    shuffle_results: bool = True
    seed: int = 0


@dataclass
class OAuthToken:
    value: str
    expires_at: float


@dataclass
class HubSpotState:
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 101
    access_tokens: dict[str, OAuthToken] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # code -> redirect_uri
    refresh_tokens: set[str] = field(default_factory=set)
    window: SlidingWindow = field(default_factory=SlidingWindow)
    daily_used: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    in_flight: int = 0
    index: Index | None = None

    def count(self, signal: str) -> None:
        self.counters[signal] = self.counters.get(signal, 0) + 1


def iso(ts: float | None = None) -> str:
    return (
        datetime.fromtimestamp(ts or time.time(), UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def error(status: int, category: str, message: str, **extra: Any) -> JSONResponse:
    headers = extra.pop("headers", None)
    return JSONResponse(
        {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
            **extra,
        },
        status_code=status,
        headers=headers,
    )


def norm(prop: str, value: Any) -> str:
    return str(value).lower() if prop == "email" else str(value)


@dataclass
class Site:
    """One emulated HubSpot account: what the routers of `create_app` close over."""

    settings: HubSpotSettings
    st: HubSpotState = field(default_factory=HubSpotState)
    gate: Gate = field(default_factory=Gate)
    knobs: faults.Faults = field(default_factory=faults.Faults)
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.st.index = Index(list(self.settings.unique_properties), norm)
        self.rng.seed(self.settings.seed)

    def limit_headers(self) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Max": str(self.settings.ten_secondly_limit),
            "X-HubSpot-RateLimit-Remaining": str(
                max(0, self.settings.ten_secondly_limit - self.st.window.count(self.settings.burst_window_s))
            ),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.settings.burst_window_s * 1000)),
            "X-HubSpot-RateLimit-Daily": str(self.settings.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(
                max(0, self.settings.daily_limit - self.st.daily_used)
            ),
        }

    async def guarded(self, request: Request, work: Any) -> Response:
        auth = request.headers.get("authorization", "")
        value = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if value not in self.settings.private_app_tokens:
            tok = self.st.access_tokens.get(value)
            if tok is None:
                self.st.count("401")
                return error(
                    401,
                    "INVALID_AUTHENTICATION",
                    "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
                )
            if tok.expires_at <= time.monotonic():
                self.st.count("401_expired")
                ago = max(1, int((time.monotonic() - tok.expires_at) / 60))
                return error(
                    401,
                    "EXPIRED_AUTHENTICATION",
                    f"The OAuth token used to make this call expired {ago} minute(s) ago.",
                )
        if self.st.daily_used >= self.settings.daily_limit:
            self.st.count("429_DAILY")
            return error(
                429,
                "RATE_LIMITS",
                "You have reached your daily limit.",
                errorType="RATE_LIMIT",
                policyName="DAILY",
                headers=self.limit_headers(),
            )
        if not self.st.window.try_hit(self.settings.ten_secondly_limit, self.settings.burst_window_s):
            self.st.count("429_TEN_SECONDLY_ROLLING")
            return error(
                429,
                "RATE_LIMITS",
                "You have reached your ten_secondly_rolling limit.",
                errorType="RATE_LIMIT",
                policyName="TEN_SECONDLY_ROLLING",
                headers=self.limit_headers(),
            )
        self.st.daily_used += 1
        self.st.in_flight += 1
        try:
            await self.gate.wait()
            response: Response = await work()
        finally:
            self.st.in_flight -= 1
        response.headers.update(self.limit_headers())
        return response

    def known(self) -> set[str]:
        return {*STANDARD_PROPERTIES, *self.settings.extra_properties}

    def view(self, cid: int, props: list[str] | None) -> dict[str, Any]:
        c = self.st.contacts[cid]
        names = props or ["email", "firstname", "lastname"]
        shown = {k: c["properties"].get(k) for k in names}
        shown.update(
            hs_object_id=str(cid),
            createdate=c["createdAt"],
            lastmodifieddate=c["updatedAt"],
        )
        return {
            "id": str(cid),
            "properties": shown,
            "createdAt": c["createdAt"],
            "updatedAt": c["updatedAt"],
            "archived": False,
        }
