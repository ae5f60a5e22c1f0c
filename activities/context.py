"""What a worker gives its activities: the definitions it loaded itself.

The worker is the authority for connections and secrets (docs/security.md): workflow and
activity inputs carry names, and an activity turns a name into a connection or flow here,
from the definitions this worker process was started with. Nothing a Temporal client puts in an
input can make a worker resolve a secret reference or choose where a credential goes.

Definitions are registered per task queue when a worker is built (`worker.main.build_worker`),
so tests that run several workers in one process each keep their own.
"""

from __future__ import annotations

import hashlib
from typing import TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from eventsync.definitions import Definitions
from eventsync.definitions.connections import Connection
from eventsync.definitions.fetches import FetchDefinition
from eventsync.definitions.flows import FlowDefinition
from eventsync.definitions.touchpoint import TouchpointDefinition

T = TypeVar("T")
UNKNOWN_NAME = "UnknownName"  # the ApplicationError type: non-retryable, the name is wrong
DEFINITION_CHANGED = "DefinitionChanged"

_by_queue: dict[str, Definitions] = {}
_default: Definitions | None = None


def register(task_queue: str, definitions: Definitions | None) -> None:
    """The definitions the worker polling `task_queue` resolves names from."""
    global _default
    if definitions is None:
        return
    _by_queue[task_queue] = definitions
    _default = definitions


def definitions() -> Definitions:
    queue = activity.info().task_queue if activity.in_activity() else None
    defs = _by_queue.get(queue or "", _default)
    if defs is None:
        raise ApplicationError(
            "this worker has no definitions: start it with `eventsync worker -d PATH` "
            "(or EVENTSYNC_DEFINITIONS)",
            type=UNKNOWN_NAME,
            non_retryable=True,
        )
    return defs


def _unknown(kind: str, name: str, known: list[str]) -> ApplicationError:
    return ApplicationError(
        f"this worker's definitions have no {kind} named {name!r} "
        f"(defined: {', '.join(known) or 'none'}); apply the same definitions to the worker",
        type=UNKNOWN_NAME,
        non_retryable=True,
    )


def _named(kind: str, items: list[T], name: str) -> T:
    for item in items:
        if getattr(item, "name", None) == name:
            return item
    raise _unknown(kind, name, [str(getattr(i, "name", "")) for i in items])


def connection(name: str) -> Connection:
    return _named("connection", definitions().connections, name)


def fetch(name: str) -> FetchDefinition:
    return _named("fetch", definitions().fetches, name)


def flow(name: str) -> FlowDefinition:
    from eventsync.touchpoint.flow import all_flows

    return _named("flow", all_flows(definitions()), name)


def touchpoint(name: str) -> TouchpointDefinition:
    """The worker's `touchpoint:` block, if it carries this name (a file holds at most one)."""
    tp = definitions().touchpoint
    return _named("touchpoint definition", [tp] if tp is not None else [], name)


def content_hash(model: Connection | FetchDefinition | FlowDefinition | TouchpointDefinition) -> str:
    """A short, stable hash of a definition: a run may pin it, and the worker checks it."""
    return hashlib.sha256(model.model_dump_json().encode()).hexdigest()[:16]


def check_pinned(kind: str, name: str, pinned: str | None, current: str) -> None:
    """A run that pinned a definition's hash must not silently run a different one."""
    if pinned and pinned != current:
        raise ApplicationError(
            f"{kind} {name!r} changed since this run started (pinned {pinned}, worker has {current}): "
            "apply the new definitions and resume or restart the run",
            type=DEFINITION_CHANGED,
            non_retryable=True,
        )
