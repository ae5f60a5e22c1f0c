"""`eventsync connections test NAME --via-worker`: the Save & Test, run by a worker, so it uses
the worker's secrets. The input is the connection definition: secret references only."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.connections import CheckConnectionResult, test_connection
    from eventsync.definitions.connections import Connection
    from workflows import search_attributes as sa


@workflow.defn
class ConnectionCheckWorkflow:
    @workflow.run
    async def run(self, connection: Connection) -> CheckConnectionResult:
        workflow.upsert_search_attributes(
            [sa.KIND.value_set("connection-test"), sa.NAME.value_set(connection.name)]
        )
        return await workflow.execute_activity(
            test_connection,
            connection,
            start_to_close_timeout=timedelta(seconds=connection.timeout_s * 2 + 10),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
