"""Library errors → Temporal's ApplicationError, in one place.

Permanent failures are non-retryable (the workflow parks or reports them); retryable ones
carry the server's Retry-After as the next retry delay. Types are stable names that retry
policies and workflows match on.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

from eventsync.http.errors import AuthenticationError, HTTPCallError
from eventsync.secrets import MissingSecretError

MISSING_SECRET = "MissingSecret"
AUTHENTICATION = "AuthenticationFailed"
PERMANENT_HTTP = "PermanentHTTPError"
RETRYABLE_HTTP = "RetryableHTTPError"


def to_application_error(err: Exception) -> ApplicationError:
    if isinstance(err, MissingSecretError):
        return ApplicationError(
            str(err),
            {"connection": err.connection, "field": err.field},
            type=MISSING_SECRET,
            non_retryable=True,
        )
    if isinstance(err, HTTPCallError):
        details = {"connection": err.connection, "status": err.status, "vendor_code": err.vendor_code}
        if err.retryable:
            delay = timedelta(seconds=err.retry_after) if err.retry_after is not None else None
            return ApplicationError(str(err), details, type=RETRYABLE_HTTP, next_retry_delay=delay)
        kind = AUTHENTICATION if isinstance(err, AuthenticationError) else PERMANENT_HTTP
        return ApplicationError(str(err), details, type=kind, non_retryable=True)
    raise TypeError(f"not a library error: {type(err).__name__}")
