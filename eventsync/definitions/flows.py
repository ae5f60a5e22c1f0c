"""Signal flow definitions: real-time, tag-driven outbound sync (DESIGN §4, issue 6).

A flow says which platform events it listens to (source), which records it activates for
(tag rules and filters), where they go (a destination kind on a connection) and how a record
becomes the destination's body (mappings). Batching and pacing default to the destination
kind's limits and can be tightened per flow.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from eventsync.definitions.common import Name, Strict

EventType = Literal[
    "registration.created",
    "registration.updated",
    "registration.status_changed",
    "registration.attended",
    "session.created",
    "session.updated",
]
"""The event catalogue (docs/flows.md). `registration.attended` is a status change to a status
classified as attended/checked-in; the platform sends it as its own type."""

TagObject = Literal["status", "attendee_type", "event", "question", "property"]
Operator = Literal["is", "is_not", "is_one_of", "contains", "is_empty", "is_not_empty", "changed_to"]


class TagCondition(Strict):
    """One condition over the tags the platform attached to a part of the record."""

    on: TagObject = Field(description="which part of the registration carries the tags")
    op: Operator = "is_one_of"
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _needs_tags(self) -> TagCondition:
        if self.op not in ("is_empty", "is_not_empty") and not self.tags:
            raise ValueError(f"operator {self.op!r} needs at least one tag in 'tags'")
        return self


class FieldCondition(Strict):
    """A filter on a record field, addressed by a dotted path (e.g. `profile.country`)."""

    field: str
    op: Literal["is", "is_not", "is_one_of", "contains", "is_empty", "is_not_empty"] = "is"
    value: Any = None


class Rules(Strict):
    """Conditions joined by `all` (AND) or `any` (OR). An empty rule set matches everything."""

    match: Literal["all", "any"] = "all"
    tags: list[TagCondition] = Field(default_factory=list)
    fields: list[FieldCondition] = Field(default_factory=list)


def _default_events() -> list[EventType]:
    return ["registration.created", "registration.status_changed"]


class Source(Strict):
    account: str = Field(description="platform account code")
    events: list[EventType] = Field(
        default_factory=_default_events,
        min_length=1,
        description="trigger events (the catalogue is in docs/flows.md)",
    )
    event_codes: list[str] = Field(
        default_factory=list, description="only these platform events (empty: every event of the account)"
    )


class Mapping(Strict):
    """Destination field -> source expression.

    An expression is a JSONPath over the record context (`$.profile.email`, `$.event.code`,
    `$.answers.<question code>`, `$.tags.status[0]`), or a constant written `=value`.
    """

    fields: dict[str, str] = Field(default_factory=dict)
    when_tag: str | None = Field(
        None, description="use this mapping when the status or attendee type carries this tag"
    )


class WebhookDestination(Strict):
    kind: Literal["webhook"] = "webhook"
    connection: str
    path: str = "/"
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    mappings: list[Mapping] = Field(
        default_factory=lambda: [Mapping(when_tag=None)],
        min_length=1,
        description="the first mapping whose when_tag matches (or has none) is used",
    )


class AdvancedWebhookDestination(Strict):
    kind: Literal["advanced_webhook"] = "advanced_webhook"
    connection: str
    path: str = "/"
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    template: dict[str, Any] | list[Any] = Field(
        description="a nested JSON body whose string leaves starting with '$' are JSONPath expressions "
        "over the record context; other leaves are constants"
    )


Destination = Annotated[WebhookDestination | AdvancedWebhookDestination, Field(discriminator="kind")]


class Batching(Strict):
    """Overrides of the destination kind's limits (None = the kind's default)."""

    batch_size: int | None = Field(None, ge=1, le=1000)
    max_concurrency: int | None = Field(None, ge=1, le=100)
    calls_per_second: float | None = Field(None, gt=0)
    max_attempts: int = Field(
        12, ge=1, description="retryable failures before a record parks (backoff 1 s doubling to 60 s)"
    )


class FlowDefinition(Strict):
    name: Name
    enabled: bool = True
    source: Source
    activate_for: Rules = Field(default_factory=Rules, description="which records this flow activates for")
    filters: Rules = Field(default_factory=Rules)
    destination: Destination
    batching: Batching = Field(
        default_factory=lambda: Batching(
            batch_size=None, max_concurrency=None, calls_per_second=None, max_attempts=12
        )
    )
    shards: int = Field(
        8, ge=1, le=256, description="workflows the flow is spread over (by record key); fixed once running"
    )
    idle_finish_s: float = Field(300.0, gt=0, description="a shard with nothing to do finishes after this")
