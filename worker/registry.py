"""What the worker hosts: every workflow and activity, on one task queue by default.

Each feature package adds its lists here; the worker, the tests and the replayer read them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from activities import smoke as smoke_activities
from workflows.smoke import SmokeWorkflow

TASK_QUEUE = "eventsync"

WORKFLOWS: list[type] = [SmokeWorkflow]
ACTIVITIES: list[Callable[..., Any]] = [smoke_activities.ping]


def workflows() -> Sequence[type]:
    return list(WORKFLOWS)


def activities() -> Sequence[Callable[..., Any]]:
    return list(ACTIVITIES)
