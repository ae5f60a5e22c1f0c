"""The one HTTP core: a pooled httpx.AsyncClient per connection, credentials applied,
exactly one re-authentication and retry when the token is rejected, and every failure
classified (eventsync.http.errors). Retrying and backoff belong to the caller (a Temporal
activity's retry policy, fed ``retry_after``), so a wait is durable and visible."""

from __future__ import annotations

import time
from typing import Any

import httpx
from opentelemetry import trace

from eventsync import telemetry
from eventsync.definitions.connections import Connection
from eventsync.http.auth import Authenticator, Credentials
from eventsync.http.errors import HTTPCallError, error_for_transport
from eventsync.http.tokens import TokenCache
from eventsync.http.vendors import VendorRules, rules_for


class ConnectionClient:
    def __init__(self, connection: Connection, http: httpx.AsyncClient, auth: Authenticator) -> None:
        self.connection = connection
        self.http = http
        self.auth = auth
        self.rules: VendorRules = rules_for(connection.vendor)

    @property
    def name(self) -> str:
        return self.connection.name

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return str(self.connection.base_url).rstrip("/") + "/" + path_or_url.lstrip("/")

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        content: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send one request; return the response or raise a classified HTTPCallError."""
        attrs = {
            "connection": self.name,
            "vendor": str(self.connection.vendor),
            "http.request.method": method,
        }
        started = time.perf_counter()
        outcome = "error"
        # One span per logical call: the re-auth retry and the token fetch nest under it, the
        # httpx instrumentation adds one span per wire request (and the traceparent header).
        with telemetry.span(f"{method} {self.name}", attrs) as span:
            try:
                response = await self._request(
                    method, path_or_url, params, json, data, content, headers, timeout
                )
                outcome = str(response.status_code)
                span.set_attribute("http.response.status_code", response.status_code)
                return response
            except HTTPCallError as err:
                outcome = type(err).__name__
                if err.status is not None:
                    span.set_attribute("http.response.status_code", err.status)
                span.set_status(trace.StatusCode.ERROR, type(err).__name__)
                raise
            finally:
                metric_attrs = {"connection": self.name, "outcome": outcome}
                telemetry.http_requests.add(1, metric_attrs)
                telemetry.http_duration.record(time.perf_counter() - started, metric_attrs)

    async def _request(
        self,
        method: str,
        path_or_url: str,
        params: Any,
        json: Any,
        data: Any,
        content: bytes | str | None,
        headers: dict[str, str] | None,
        timeout: float | None,
    ) -> httpx.Response:
        for attempt in (1, 2):
            request = self.http.build_request(
                method,
                self.url(path_or_url),
                params=params,
                json=json,
                data=data,
                content=content,
                headers={**self.connection.headers, **(headers or {})},
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
            token = await self.auth.apply(request)
            try:
                response = await self.http.send(request)
            except httpx.TransportError as err:
                raise error_for_transport(self.name, request, err) from None
            if (
                attempt == 1
                and self.auth.uses_tokens
                and token is not None
                and self.rules.token_expired(response)
            ):
                await response.aclose()
                self.auth.invalidate(token)
                continue
            error = self.rules.classify(self.name, response)
            if error is not None:
                raise error
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def get_json(self, path_or_url: str, **kwargs: Any) -> Any:
        return (await self.request("GET", path_or_url, **kwargs)).json()


class ConnectionPool:
    """One per worker process: pooled HTTP clients and the token cache, by connection."""

    def __init__(self, *, max_connections: int = 20) -> None:
        self.tokens = TokenCache()
        self._clients: dict[str, ConnectionClient] = {}
        self._limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )

    def client(self, connection: Connection) -> ConnectionClient:
        """The client for ``connection``; resolves its secrets on first use (MissingSecretError)."""
        key = connection.model_dump_json()
        existing = self._clients.get(key)
        if existing is not None:
            return existing
        credentials = Credentials.resolve(connection)
        http = httpx.AsyncClient(timeout=connection.timeout_s, limits=self._limits, follow_redirects=False)
        client = ConnectionClient(
            connection, http, Authenticator(credentials, self.tokens, connection.timeout_s)
        )
        self._clients[key] = client
        return client

    async def aclose(self) -> None:
        for c in self._clients.values():
            await c.http.aclose()
        self._clients.clear()
