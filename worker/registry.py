"""What the worker hosts: every workflow and activity, on one task queue by default.

Each feature package adds its lists here; the worker, the tests and the replayer read them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from activities import connections as connection_activities
from activities import fetch as fetch_activities
from activities import flow as flow_activities
from activities import flow_legacy as flow_legacy_activities
from activities import smoke as smoke_activities
from activities import touchpoint as touchpoint_activities
from workflows.connection_check import ConnectionCheckWorkflow
from workflows.fetch import FetchWorkflow
from workflows.flow import SignalShardWorkflow
from workflows.flow_legacy import FlowShardWorkflow
from workflows.smoke import SmokeWorkflow
from workflows.touchpoint import TouchpointReprocessWorkflow

TASK_QUEUE = "eventsync"

WORKFLOWS: list[type] = [
    SmokeWorkflow,
    ConnectionCheckWorkflow,
    SignalShardWorkflow,
    FlowShardWorkflow,  # draining first-design shards only (workflows/flow_legacy.py)
    TouchpointReprocessWorkflow,
    FetchWorkflow,
]
ACTIVITIES: list[Callable[..., Any]] = [
    smoke_activities.ping,
    connection_activities.test_connection,
    flow_activities.pump,
    flow_activities.operate,
    flow_legacy_activities.deliver,
    touchpoint_activities.resolve,
    touchpoint_activities.page,
    fetch_activities.fetch_definition,
    fetch_activities.fetch_run_ended,
    fetch_activities.fetch_page,
]


def workflows() -> Sequence[type]:
    return list(WORKFLOWS)


def activities() -> Sequence[Callable[..., Any]]:
    return list(ACTIVITIES)
