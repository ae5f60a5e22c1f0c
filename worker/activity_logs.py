"""A cancelled activity is said in one line, not a traceback.

The SDK reports an activity that ended in a cancellation it did not ask for (its workflow was
cancelled and closed first, as `fetch cancel` does, or the worker is shutting down) as
"Completing activity as failed" with the cancellation's whole stack: some eighty lines in the
`eventsync dev` terminal for an operator's normal action. Real failures keep their traceback."""

from __future__ import annotations

import asyncio
import logging

from temporalio.exceptions import CancelledError

ACTIVITY_LOGGER = "temporalio.activity"


class OneLineCancel(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        err = record.exc_info[1] if record.exc_info else None
        if isinstance(err, asyncio.CancelledError | CancelledError):
            info = getattr(record, "temporal_activity", None) or {}
            record.msg = "activity %s cancelled (workflow %s, attempt %s)"
            record.args = (
                info.get("activity_type", "?"),
                info.get("workflow_id", "?"),
                info.get("attempt", "?"),
            )
            record.exc_info = None
            record.exc_text = None
        return True


def install() -> None:
    """Once per process (every worker host calls it)."""
    logger = logging.getLogger(ACTIVITY_LOGGER)
    if not any(isinstance(f, OneLineCancel) for f in logger.filters):
        logger.addFilter(OneLineCancel())
