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
DETAIL = "detail"  # the details key holding the vendor's words (workflows/parking.py reads it)


def to_application_error(err: Exception) -> ApplicationError:
    if isinstance(err, MissingSecretError):
        return ApplicationError(
            str(err),
            {"connection": err.connection, "field": err.field},
            type=MISSING_SECRET,
            non_retryable=True,
        )
    if isinstance(err, HTTPCallError):
        # The message is the headline: the SDK logs it, in clear, when the activity fails. The
        # vendor's words (they quote records) travel in the details, which the codec encrypts.
        details = {
            "connection": err.connection,
            "status": err.status,
            "vendor_code": err.vendor_code,
            DETAIL: err.detail,
        }
        if err.retryable:
            delay = timedelta(seconds=err.retry_after) if err.retry_after is not None else None
            return ApplicationError(err.headline, details, type=RETRYABLE_HTTP, next_retry_delay=delay)
        kind = AUTHENTICATION if isinstance(err, AuthenticationError) else PERMANENT_HTTP
        return ApplicationError(err.headline, details, type=kind, non_retryable=True)
    raise TypeError(f"not a library error: {type(err).__name__}")
