"""What each vendor says in its own words: "your token expired", "slow down", "never".

The generic rules are HTTP's; a vendor whose API answers 200 with an error code in the body
(Marketo) or a 401 with a code (Salesforce) overrides them here, so every connector shares
one classification.
"""

from __future__ import annotations

from typing import Any

import httpx

from eventsync.http.errors import (
    HTTPCallError,
    PermanentHTTPError,
    RetryableHTTPError,
    body_snippet,
    describe,
    error_for_response,
)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class VendorRules:
    name = "http"

    def token_expired(self, response: httpx.Response) -> bool:
        return response.status_code == 401

    def classify(self, connection: str, response: httpx.Response) -> HTTPCallError | None:
        return error_for_response(connection, response)


class MarketoRules(VendorRules):
    """Marketo answers HTTP 200 with success:false and a code."""

    name = "marketo"
    TOKEN_CODES = {"601", "602"}
    # 606 rate, 615 concurrency, 604 timeout, 608/611/713 transient server trouble
    RETRYABLE = {"604": 5.0, "606": 20.0, "608": 5.0, "611": 5.0, "615": 2.0, "713": 5.0, "1029": 60.0}

    def _codes(self, response: httpx.Response) -> list[str]:
        body = _json(response)
        if not isinstance(body, dict) or body.get("success") is not False:
            return []
        return [str(e.get("code")) for e in body.get("errors") or [] if isinstance(e, dict)]

    def token_expired(self, response: httpx.Response) -> bool:
        return response.status_code == 401 or bool(self.TOKEN_CODES & set(self._codes(response)))

    def classify(self, connection: str, response: httpx.Response) -> HTTPCallError | None:
        generic = error_for_response(connection, response)
        if generic is not None:
            return generic
        codes = self._codes(response)
        if not codes:
            return None
        code = codes[0]
        message = f"connection {connection!r}: {describe(response.request)} failed with Marketo code {code}"
        detail = body_snippet(response)
        if code == "607":  # daily quota: resets at 00:00 US Central; the caller decides how to wait
            return RetryableHTTPError(
                message,
                connection=connection,
                status=200,
                vendor_code=code,
                retry_after=3600.0,
                detail=detail,
            )
        if code in self.RETRYABLE:
            return RetryableHTTPError(
                message,
                connection=connection,
                status=200,
                vendor_code=code,
                retry_after=self.RETRYABLE[code],
                detail=detail,
            )
        return PermanentHTTPError(message, connection=connection, status=200, vendor_code=code, detail=detail)


class SalesforceRules(VendorRules):
    name = "salesforce"

    def classify(self, connection: str, response: httpx.Response) -> HTTPCallError | None:
        err = error_for_response(connection, response)
        if err is not None and response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in response.text:
            return RetryableHTTPError(
                err.headline,
                connection=connection,
                status=403,
                vendor_code="REQUEST_LIMIT_EXCEEDED",
                retry_after=300.0,
                detail=err.detail,
            )
        return err


class HubSpotRules(VendorRules):
    name = "hubspot"

    def classify(self, connection: str, response: httpx.Response) -> HTTPCallError | None:
        err = error_for_response(connection, response)
        if err is not None and response.status_code == 429:
            body = _json(response)
            policy = body.get("policyName") if isinstance(body, dict) else None
            if policy == "DAILY":
                err.vendor_code = "DAILY"
                err.retry_after = err.retry_after or 3600.0
            elif policy:
                err.vendor_code = str(policy)
                err.retry_after = err.retry_after or 1.0
        return err


RULES: dict[str, VendorRules] = {
    r.name: r for r in (VendorRules(), MarketoRules(), SalesforceRules(), HubSpotRules())
}


def rules_for(vendor: str) -> VendorRules:
    return RULES.get(vendor, RULES["http"])
