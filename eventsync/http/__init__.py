"""The shared HTTP core every connector is built on."""

from eventsync.http.client import ConnectionClient, ConnectionPool
from eventsync.http.errors import AuthenticationError, HTTPCallError, PermanentHTTPError, RetryableHTTPError

__all__ = [
    "AuthenticationError",
    "ConnectionClient",
    "ConnectionPool",
    "HTTPCallError",
    "PermanentHTTPError",
    "RetryableHTTPError",
]
