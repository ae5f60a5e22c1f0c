"""Park and resume, one semantics for every workflow that can park (API Fetch runs, Touchpoint
reprocess): a permanent failure parks the work with its reason, visibly, until an operator's
`resume` signal; a `resume` that arrives while nothing is parked is ignored, so it can never
pre-approve a later park.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ActivityError

MAX_REASON = 500


def reason_of(err: BaseException) -> str:
    """What parked it, from an activity failure: the cause's "<type>: <message>", bounded."""
    cause = err.cause if isinstance(err, ActivityError) and err.cause is not None else err
    return str(cause)[:MAX_REASON]


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
