"""Park and resume, one semantics for every workflow that can park (API Fetch runs, Touchpoint
reprocess): a permanent failure parks the work with its reason, visibly, until an operator's
`resume` signal; a `resume` that arrives while nothing is parked is ignored, so it can never
pre-approve a later park.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.errors import DETAIL

MAX_REASON = 500


def headline_of(err: BaseException) -> str:
    """What failed, without the vendor's words (activities/errors.py): what a log line may say."""
    cause = err.cause if isinstance(err, ActivityError) and err.cause is not None else err
    return str(cause)[:MAX_REASON]


def reason_of(err: BaseException) -> str:
    """What parked it, for the operator: the headline and the vendor's words, bounded. It is
    shown through queries and the memo (encrypted payloads), never logged whole."""
    cause = err.cause if isinstance(err, ActivityError) and err.cause is not None else err
    reason = str(cause)
    if isinstance(cause, ApplicationError) and cause.details and isinstance(cause.details[0], dict):
        detail = cause.details[0].get(DETAIL)
        if detail:
            reason = f"{reason}: {detail}"
    return reason[:MAX_REASON]


class Parking:
    def __init__(self) -> None:
        self.parked = False
        self.reason: str | None = None
        self._resume = False

    def resume(self) -> bool:
        """The `resume` signal's handler: True when something was parked."""
        if not self.parked:
            return False
        self._resume = True
        return True

    async def park(self, reason: str, shown: Callable[[str], None]) -> None:
        """Wait parked until resumed. `shown(status)` publishes "parked", then "running"
        (search attributes, memo)."""
        self.parked, self.reason, self._resume = True, reason, False
        shown("parked")
        await workflow.wait_condition(lambda: self._resume)
        self.parked, self._resume = False, False
        shown("running")
