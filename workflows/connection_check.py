"""`eventsync connections test NAME --via-worker`: the Save & Test, run by a worker, so it uses
the worker's secrets. The input is the connection's NAME: the worker resolves it from the
definitions it was started with, so a Temporal client cannot choose what secret is read or
where it is sent (docs/security.md)."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.connections import CheckConnectionResult, test_connection
    from workflows import search_attributes as sa

# The activity bounds its own HTTP calls by the connection's timeout_s (at most 600 s, a
# token request and a read); the workflow does not know the connection, so it allows the most.
_ACTIVITY_TIMEOUT = timedelta(seconds=2 * 600 + 10)


@workflow.defn(name="ConnectionCheckWorkflow")
class ConnectionCheckWorkflow:
    @workflow.run
    async def run(self, connection: str) -> CheckConnectionResult:
        workflow.upsert_search_attributes(
            [sa.KIND.value_set("connection-test"), sa.NAME.value_set(connection)]
        )
        return await workflow.execute_activity(
            test_connection,
            connection,
            start_to_close_timeout=_ACTIVITY_TIMEOUT,
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
