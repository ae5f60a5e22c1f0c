"""HTTP face of the platform emulator (Certain-style API 2.0). See docs/sandbox.md."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox import faults as faults_mod
from sandbox.platform import accounts, admin, catalog, events, registrations, sessions
from sandbox.platform.seeding import populate
from sandbox.platform.site import ALL_INCLUDES, API, PlatformSite
from sandbox.platform.store import ApiError, Event, Store
from sandbox.platform.webhooks import Dispatcher, WebhookConfig, new_event

DEFAULT_PORT = 8701


class _BasicAuth:
    """Pure ASGI so that the check costs little on the hot path."""

    def __init__(self, app: ASGIApp, users: dict[str, str]) -> None:
        self.app = app
        self.users = users

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API):
            reason = self._check(scope)
            if reason is not None:
                resp = JSONResponse(
                    {"statusCode": 401, "message": reason},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="certainExternal"'},
                )
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _check(self, scope: Scope) -> str | None:
        header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
        if header is None or not header[:6].lower() == b"basic ":
            return "Authentication required (HTTP Basic)"
        try:
            user, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "Malformed Basic credentials"
        expected = self.users.get(user)
        if not sep or expected is None or not hmac.compare_digest(password.encode(), expected.encode()):
            return "Invalid username or password"
        return None


def create_app(
    *,
    users: dict[str, str] | None = None,
    default_max_results: int = 100,
    max_results_limit: int = 1000,
    start_index_mode: str = "offset",
    bulk_max_records: int = 1000,
    webhook: dict[str, Any] | None = None,
    seed: dict[str, Any] | None = None,
    fault_seed: int = 0,
) -> FastAPI:
    """Settings (all [U] in the facts, so all configurable):

    - ``users``: Basic-auth username -> password (default ``{"sandbox": "sandbox"}``).
    - ``default_max_results`` / ``max_results_limit``: page size when ``max_results`` is
      absent, and the cap a larger request is clamped to (reported in ``maxResults``).
    - ``start_index_mode``: ``"offset"`` (0-based record offset, default) or ``"page"``
      (1-based page number).
    - ``bulk_max_records``: most records one Bulk Registration Upsert accepts (else 400).
    - ``webhook``: initial webhook config (see ``WebhookConfig``).
    - ``seed``: keyword args for ``populate`` to fill the store at creation.
    """
    if start_index_mode not in ("offset", "page"):
        raise ValueError(f"start_index_mode must be 'offset' or 'page', got {start_index_mode!r}")
    dispatcher = Dispatcher(WebhookConfig.model_validate(webhook or {}))
    store = Store()
    knobs = faults_mod.Faults(fault_seed)

    def emit(kind: str, ev: Event, key: str, rec: dict[str, Any], extra: dict[str, Any]) -> None:
        rec["seq"] += 1
        cfg = dispatcher.config
        if not cfg.url or kind not in cfg.events:
            return
        if kind.startswith("registration"):
            data = store.registration_view(ev, rec, ALL_INCLUDES)
        else:
            data = store.session_view(ev, rec, True)
        event = new_event(kind, ev.account, ev.code, ev.event_id, key, rec["seq"], data)
        event.update(extra)
        dispatcher.enqueue(event)

    store.emit = emit
    if seed:
        populate(store, **seed)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await dispatcher.start()
        try:
            yield
        finally:
            await dispatcher.stop()

    app = FastAPI(title="eventsync sandbox: platform (Certain-style API 2.0)", lifespan=lifespan)
    app.state.store = store
    app.state.dispatcher = dispatcher

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"statusCode": exc.status, "message": exc.message}, status_code=exc.status)

    site = PlatformSite(
        store=store,
        dispatcher=dispatcher,
        knobs=knobs,
        emit=emit,
        default_max_results=default_max_results,
        max_results_limit=max_results_limit,
        start_index_mode=start_index_mode,
        bulk_max_records=bulk_max_records,
    )
    # Registration routes first: routes match in order, and these carry the load; the catalog's
    # `/{obj}/...` routes match anything, so they come last.
    for resource in (registrations, accounts, events, sessions, catalog, admin):
        app.include_router(resource.router(site))
    faults_mod.install(app, knobs)
    app.add_middleware(_BasicAuth, users=users if users is not None else {"sandbox": "sandbox"})
    return app


def seed(app: FastAPI, **kwargs: Any) -> dict[str, Any]:
    """Fill a platform app built by ``create_app`` (see ``populate`` for the arguments)."""
    return populate(app.state.store, **kwargs)
