"""Starting a flow's shard workflows: the one place that knows their id, type and attributes.

Starting is idempotent (an already running shard is left as it is), so every receiver, the
worker's keeper and the operator commands may call it whenever they need a shard running.
"""

from __future__ import annotations

from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy

from eventsync.definitions import Definitions
from eventsync.definitions.flows import FlowDefinition
from eventsync.flows.sharding import workflow_id
from workflows import search_attributes as sa
from workflows.flow import ShardInput, SignalShardWorkflow


def delivery_queue(defs: Definitions, flow: FlowDefinition) -> str | None:
    """The task queue the flow's connection pins its deliveries to, if any."""
    for c in defs.connections:
        if c.name == flow.destination.connection:
            return c.task_queue
    return None


async def ensure_shard(
    client: Client, defs: Definitions, flow: FlowDefinition, shard: int, task_queue: str
) -> WorkflowHandle[SignalShardWorkflow, object]:
    return await client.start_workflow(
        SignalShardWorkflow.run,
        ShardInput(
            flow=flow.name, shard=shard, account=flow.source.account, task_queue=delivery_queue(defs, flow)
        ),
        id=workflow_id(flow.name, shard),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.KIND, "flow"),
                SearchAttributePair(sa.NAME, flow.name),
                SearchAttributePair(sa.ACCOUNT, flow.source.account),
            ]
        ),
    )
