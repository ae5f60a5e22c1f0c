"""A workflow that ends like `fetch cancel` ends a fetch: its activity is still running when the
workflow, told to cancel, returns (imports only temporalio: the workflow sandbox re-imports it)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception


@activity.defn(name="test.heartbeats_until_cancelled")
async def heartbeats_until_cancelled(fail: bool) -> None:
    if fail:
        raise ApplicationError("the vendor said no")
    while True:
        activity.heartbeat()
        await asyncio.sleep(0.1)


@workflow.defn(name="TestCancelledLikeAFetch")
class CancelledLikeAFetch:
    @workflow.run
    async def run(self, fail: bool) -> str:
        try:
            await workflow.execute_activity(
                heartbeats_until_cancelled,
                fail,
                start_to_close_timeout=timedelta(minutes=1),
                heartbeat_timeout=timedelta(seconds=2),
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                return "cancelled"
            raise
        return "done"
