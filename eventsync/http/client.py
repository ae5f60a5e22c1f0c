"""The one HTTP core: pooled httpx.AsyncClients per connection, credentials applied,
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
from eventsync.http.errors import HTTPCallError, ResponseTooLargeError, error_for_transport
from eventsync.http.origin import VENDOR_HOSTS, OriginPolicy
from eventsync.http.tokens import TokenCache
from eventsync.http.vendors import VendorRules, rules_for
from eventsync.logs import register_secret_params


class ConnectionClient:
    def __init__(
        self,
        connection: Connection,
        http: httpx.AsyncClient,
        auth: Authenticator,
        lanes: list[httpx.AsyncClient] | None = None,
    ) -> None:
        self.connection = connection
        self.http = http
        self.auth = auth
        # Several small httpx pools ("lanes"), each request on the least busy one: httpcore scans
        # every connection of its pool (a socket check each) per request, so one pool of 16-20
        # connections cost ~1.9 ms of CPU per call against ~1.0 ms with lanes of 4
        # (benchmarks/signal_stages.py, stage e; docs/architecture.md, Performance).
        self.lanes = lanes or [http]
        self._busy = [0] * len(self.lanes)
        self.rules: VendorRules = rules_for(connection.vendor)
        if getattr(connection.auth, "location", None) == "query":
            # The connection's own API-key parameter is a secret wherever its URLs are recorded.
            register_secret_params([str(getattr(connection.auth, "name", ""))])
        self.origin = OriginPolicy.for_base(
            connection.name,
            str(connection.base_url),
            tuple(connection.allowed_hosts) + VENDOR_HOSTS.get(connection.vendor, ()),
        )

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
        lane = min(range(len(self.lanes)), key=self._busy.__getitem__)
        self._busy[lane] += 1
        try:
            return await self._on_lane(
                self.lanes[lane], method, path_or_url, params, json, data, content, headers, timeout
            )
        finally:
            self._busy[lane] -= 1

    async def _on_lane(
        self,
        http: httpx.AsyncClient,
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
            request = http.build_request(
                method,
                self.url(path_or_url),
                params=params,
                json=json,
                data=data,
                content=content,
                headers={**self.connection.headers, **(headers or {})},
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
            # Before any credential is applied: a URL from a response or a record may point anywhere.
            self.origin.check(request.url)
            token = await self.auth.apply(request)
            try:
                response = await http.send(request, stream=True)
                await self._read_capped(response)
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

    async def _read_capped(self, response: httpx.Response) -> None:
        """Read the body, decompressed, refusing it past the connection's max_response_bytes."""
        limit = self.connection.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise ResponseTooLargeError(
                        f"connection {self.name!r}: {response.request.method} {response.request.url.path} "
                        f"answered more than max_response_bytes ({limit} bytes, decompressed); "
                        "raise the connection's max_response_bytes if the vendor really sends that much",
                        connection=self.name,
                        status=response.status_code,
                    )
                chunks.append(chunk)
        finally:
            await response.aclose()
        # What Response.aread() would have stored: .content, .text and .json() work as usual.
        response._content = b"".join(chunks)

    async def get_json(self, path_or_url: str, **kwargs: Any) -> Any:
        return (await self.request("GET", path_or_url, **kwargs)).json()


class ConnectionPool:
    """One per worker process: pooled HTTP clients and the token cache, by connection."""

    def __init__(self, *, max_connections: int = 20, lane_connections: int = 4) -> None:
        self.tokens = TokenCache()
        self._clients: dict[str, ConnectionClient] = {}
        per_lane = max(1, min(lane_connections, max_connections))
        self._lanes = -(-max_connections // per_lane)
        self._limits = httpx.Limits(max_connections=per_lane, max_keepalive_connections=per_lane)

    def client(self, connection: Connection) -> ConnectionClient:
        """The client for ``connection``; resolves its secrets on first use (MissingSecretError)."""
        key = connection.model_dump_json()
        existing = self._clients.get(key)
        if existing is not None:
            return existing
        credentials = Credentials.resolve(connection)
        lanes = [
            httpx.AsyncClient(timeout=connection.timeout_s, limits=self._limits, follow_redirects=False)
            for _ in range(self._lanes)
        ]
        client = ConnectionClient(
            connection, lanes[0], Authenticator(credentials, self.tokens, connection.timeout_s), lanes
        )
        self._clients[key] = client
        return client

    async def aclose(self) -> None:
        for c in self._clients.values():
            for lane in c.lanes:
                await lane.aclose()
        self._clients.clear()
