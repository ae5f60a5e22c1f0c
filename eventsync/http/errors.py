"""One error classification for every connector.

Retryable: connection errors, timeouts, 408, 429, 5xx (and vendor codes that mean "later").
Permanent: every other 4xx (and vendor codes that mean "this request will never work").
An error has a **headline** (connection, method, path, status, vendor code: never a query
string, where tokens and API keys travel, and never a credential) and a **detail**: the vendor's
own words, which often quote the record (an email, a name). `str(err)` is both, for places that
keep it sealed or show it to an operator (the event store, the CLI); what leaves as a Temporal
failure carries the headline as its message and the detail in its encrypted details
(activities/errors.py), so worker logs of a failed activity hold no registrant data.
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
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.connection = connection
        self.status = status
        self.vendor_code = vendor_code
        self.retry_after = retry_after
        self.detail = detail

    @property
    def headline(self) -> str:
        """What failed, without the vendor's words: safe for logs."""
        return str(self.args[0])

    def __str__(self) -> str:
        return f"{self.headline}: {self.detail}" if self.detail else self.headline


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
    message = f"connection {connection!r}: {where} answered HTTP {status}"
    detail = body_snippet(response)
    if is_retryable_status(status):
        return RetryableHTTPError(
            message,
            connection=connection,
            status=status,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            detail=detail,
        )
    if status == 401:
        return AuthenticationError(message, connection=connection, status=status, detail=detail)
    return PermanentHTTPError(message, connection=connection, status=status, detail=detail)


def error_for_transport(
    connection: str, request: httpx.Request, err: httpx.TransportError
) -> RetryableHTTPError:
    kind = "timed out" if isinstance(err, httpx.TimeoutException) else f"failed ({type(err).__name__})"
    return RetryableHTTPError(f"connection {connection!r}: {describe(request)} {kind}", connection=connection)


def loggable(err: BaseException) -> str:
    """An error as a log line may carry it: an HTTP error's headline (the vendor's words quote
    records), any other error's type and message."""
    return err.headline if isinstance(err, HTTPCallError) else f"{type(err).__name__}: {err}"
