"""One error classification for every connector.

Retryable: connection errors, timeouts, 408, 429, 5xx (and vendor codes that mean "later").
Permanent: every other 4xx (and vendor codes that mean "this request will never work").
Messages carry the connection name, method, path and the vendor's own words — never a query
string (tokens and API keys travel there) and never a credential.
"""

from __future__ import annotations

import email.utils
import time

import httpx

_BODY_SNIPPET = 500


class HTTPCallError(Exception):
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        connection: str,
        status: int | None = None,
        vendor_code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.connection = connection
        self.status = status
        self.vendor_code = vendor_code
        self.retry_after = retry_after


class RetryableHTTPError(HTTPCallError):
    retryable = True


class PermanentHTTPError(HTTPCallError):
    retryable = False


class ResponseTooLargeError(PermanentHTTPError):
    """A response body past the connection's max_response_bytes (decompressed)."""


class AuthenticationError(PermanentHTTPError):
    """Credentials rejected, even after one fresh authentication."""


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def describe(request: httpx.Request) -> str:
    return f"{request.method} {request.url.path}"


def body_snippet(response: httpx.Response) -> str:
    try:
        text = response.text
    except Exception:  # undecodable body: say so rather than fail while reporting a failure
        return "<undecodable body>"
    text = " ".join(text.split())
    return text[:_BODY_SNIPPET] + ("…" if len(text) > _BODY_SNIPPET else "")


def is_retryable_status(status: int) -> bool:
    return status in (408, 429) or status >= 500


def error_for_response(connection: str, response: httpx.Response) -> HTTPCallError | None:
    """None for a success; otherwise the classified error for this response."""
    status = response.status_code
    if status < 400:
        return None
    where = describe(response.request)
    message = f"connection {connection!r}: {where} answered HTTP {status}: {body_snippet(response)}"
    if is_retryable_status(status):
        return RetryableHTTPError(
            message,
            connection=connection,
            status=status,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status == 401:
        return AuthenticationError(message, connection=connection, status=status)
    return PermanentHTTPError(message, connection=connection, status=status)


def error_for_transport(
    connection: str, request: httpx.Request, err: httpx.TransportError
) -> RetryableHTTPError:
    kind = "timed out" if isinstance(err, httpx.TimeoutException) else f"failed ({type(err).__name__})"
    return RetryableHTTPError(f"connection {connection!r}: {describe(request)} {kind}", connection=connection)
