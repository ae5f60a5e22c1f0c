"""Where a connection's requests may go: its own origin (scheme, host, port) and the hosts its
definition allows, never elsewhere, so a URL taken from a response (a next-page link, a Link
header) or rendered from a record (a lookup path) cannot carry the connection's credentials to
another server (docs/security.md, SSRF). No https→http downgrade, even to an allowed host."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import httpx

from eventsync.definitions.connections import LOOPBACK_HOSTS as _LOOPBACK
from eventsync.http.errors import PermanentHTTPError

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Hosts a vendor moves a connection to by design (Eloqua's pod from /id); https only.
VENDOR_HOSTS: dict[str, tuple[str, ...]] = {"eloqua": ("*.eloqua.com",)}


class OriginRefusedError(PermanentHTTPError):
    """A request outside the connection's origin and allowed hosts: never sent."""


def _port(url: httpx.URL) -> int:
    return url.port or _DEFAULT_PORTS.get(url.scheme, 0)


@dataclass(frozen=True)
class OriginPolicy:
    connection: str
    scheme: str
    host: str
    port: int
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def for_base(cls, connection: str, base_url: str, allowed_hosts: tuple[str, ...] = ()) -> OriginPolicy:
        url = httpx.URL(base_url)
        return cls(connection, url.scheme, url.host.lower(), _port(url), allowed_hosts)

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def _allowed_elsewhere(self, host: str, port: int, scheme: str) -> bool:
        for entry in self.allowed_hosts:
            pattern, _, want_port = entry.lower().partition(":")
            if want_port and int(want_port) != port:
                continue
            if not want_port and port != _DEFAULT_PORTS.get(scheme):
                continue
            if fnmatch.fnmatchcase(host, pattern):
                return True
        return False

    def check(self, url: httpx.URL) -> None:
        """Raise OriginRefusedError unless `url` may receive this connection's requests."""
        scheme, host, port = url.scheme, url.host.lower(), _port(url)
        if (scheme, host, port) == (self.scheme, self.host, self.port):
            return
        why: str | None = None
        if scheme not in _DEFAULT_PORTS:
            why = f"the scheme {scheme!r} is not http(s)"
        elif self.scheme == "https" and scheme == "http":
            why = "it would downgrade https to http"
        elif scheme == "http" and host not in _LOOPBACK:
            why = "credentials go to another host over https only (http is for loopback)"
        elif self._allowed_elsewhere(host, port, scheme):
            return
        else:
            why = f"it is outside the connection's origin {self.origin} and its allowed_hosts"
        raise OriginRefusedError(
            f"connection {self.connection!r}: refused to send a request to {host}:{port} ({scheme}): "
            f"{why}; if the vendor really serves this connection there, add {host!r} to the "
            "connection's allowed_hosts",
            connection=self.connection,
        )
