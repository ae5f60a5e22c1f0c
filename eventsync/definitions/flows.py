"""Signal flow definitions: real-time, tag-driven outbound sync (docs/flows.md).

A flow says which platform events it listens to (source), which records it activates for
(a tag rule) and which it filters out (more tag rules, e.g. on question answers), where they go
(a destination kind on a connection: a webhook, or a native Marketo, Eloqua, Salesforce or
HubSpot destination, docs/destinations.md) and how a record becomes the destination's body (a
mapping). Rules and mappings are the transforms' own models (`eventsync.tags`,
`eventsync.transforms.mapping`, docs/transforms.md): there is one rule language and one mapping
language in eventsync. Batching and pacing default to the destination kind's limits and can be
tightened per flow.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_serializer, model_validator

from eventsync.definitions.common import Name, Strict
from eventsync.definitions.destinations import (
    EloquaDestination,
    HubSpotDestination,
    MarketoDestination,
    SalesforceDestination,
    steps_mapping,
)
from eventsync.definitions.touchpoint import TouchpointDestination
from eventsync.tags import TagRule, compile_rule
from eventsync.transforms.mapping import FlowMapping, compile_mapping

EventType = Literal[
    "registration.created",
    "registration.updated",
    "registration.status_changed",
    "session.created",
    "session.updated",
]
"""The event catalogue: what the platform sends (docs/sandbox.md, docs/flows.md). A check-in is a
status change (to a status tagged, say, "Signal: Attended"): use `changed_to` on that tag."""


def _default_events() -> list[EventType]:
    return ["registration.created", "registration.status_changed"]


class Source(Strict):
    account: str = Field(description="platform account code")
    connection: str | None = Field(
        None,
        description="the platform API connection: replay reads registrations through it, and "
        "`changed_to` rules read the previous status's tags through it",
    )
    events: list[EventType] = Field(
        default_factory=_default_events,
        min_length=1,
        description="trigger events (the catalogue is in docs/flows.md)",
    )
    event_codes: list[str] = Field(
        default_factory=list, description="only these platform events (empty: every event of the account)"
    )


def _mapping_as_written(mapping: FlowMapping | None) -> Any:
    # A mapping source means what was *set* (`value: null` is a constant, an absent `value` is
    # not), so it crosses Temporal (and any dump) as written, not with every default filled in.
    return None if mapping is None else mapping.model_dump(mode="json", exclude_unset=True)


class _HttpDestination(Strict):
    """What both webhook kinds share: where the records go, and whether they go as arrays."""

    connection: str
    path: str = "/"
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    batch: bool = Field(
        False,
        description="send up to `batching.batch_size` records per call as one JSON array of bodies "
        "(the destination must accept arrays); see docs/flows.md, 'Batched webhook destinations'",
    )


class WebhookDestination(_HttpDestination):
    """One JSON object per record. Without a mapping, the platform's record as it is."""

    kind: Literal["webhook"] = "webhook"
    mapping: FlowMapping | None = Field(None, description="flat `fields` (and `branches` by tag)")

    @field_serializer("mapping")
    def _as_written(self, mapping: FlowMapping | None) -> Any:
        return _mapping_as_written(mapping)

    @model_validator(mode="after")
    def _flat(self) -> WebhookDestination:
        if self.mapping is not None and self.mapping.fields is None:
            raise ValueError("a webhook mapping has `fields`; a nested `body` is an advanced_webhook")
        return self


class AdvancedWebhookDestination(_HttpDestination):
    """A nested JSON body: the destination's sample body as a template, leaves bound to sources."""

    kind: Literal["advanced_webhook"] = "advanced_webhook"
    mapping: FlowMapping = Field(description="`body: {template, bind}` (and `branches` by tag)")

    @field_serializer("mapping")
    def _as_written(self, mapping: FlowMapping | None) -> Any:
        return _mapping_as_written(mapping)

    @model_validator(mode="after")
    def _nested(self) -> AdvancedWebhookDestination:
        if self.mapping.body is None:
            raise ValueError("an advanced_webhook mapping has a `body` (template and bind)")
        return self


Destination = Annotated[
    WebhookDestination
    | AdvancedWebhookDestination
    | MarketoDestination
    | EloquaDestination
    | SalesforceDestination
    | HubSpotDestination
    | TouchpointDestination,
    Field(discriminator="kind"),
]


class Batching(Strict):
    """Overrides of the destination kind's limits (None = the kind's default)."""

    batch_size: int | None = Field(None, ge=1, le=1000)
    max_concurrency: int | None = Field(None, ge=1, le=100)
    calls_per_second: float | None = Field(None, gt=0)
    max_attempts: int | None = Field(
        None,
        ge=1,
        description="also park a record after this many failed attempts (default: only the retry window)",
    )
    retry_window_s: float = Field(
        86_400.0,
        gt=0,
        description="how long retryable failures (5xx, 429, timeouts, connection errors) are retried, "
        "with capped backoff, before the record parks; permanent failures park at once",
    )


_COMPILED_OK: dict[str, None] = {}  # definitions (as JSON) known to compile, oldest first


class FlowDefinition(Strict):
    name: Name
    enabled: bool = True
    source: Source
    activate_for: TagRule | None = Field(
        None, description="a tag rule (docs/transforms.md §3); none: every record of the source"
    )
    filters: list[TagRule] = Field(
        default_factory=list, description="further rules a record must pass, checked in order"
    )
    destination: Destination
    batching: Batching = Field(
        default_factory=lambda: Batching(
            batch_size=None, max_concurrency=None, calls_per_second=None, max_attempts=None, retry_window_s=86_400.0
        )
    )
    shards: int = Field(
        8, ge=1, le=256, description="workflows the flow is spread over (by record key); fixed once running"
    )
    skip_unchanged: bool = Field(
        True,
        description="skip an event whose rendered body equals the last one delivered for its record "
        "(shown as 'skipped: unchanged' in explain); false sends every event",
    )
    idle_finish_s: float = Field(
        300.0,
        gt=0,
        description="an idle shard's delivery loop reports back to its workflow at least this often "
        "(shards no longer finish: they wait for the event store at no cost)",
    )

    @model_validator(mode="after")
    def _compiles(self) -> FlowDefinition:
        # Compile once here so a bad expression is a validation error naming the flow and field,
        # not a per-record failure (TransformError is a ValueError: pydantic reports it).
        # A flow crosses Temporal with every signal and activity, so it is validated again and
        # again (~0.5 ms each with the compile): a definition that compiled once is not redone.
        key = self.model_dump_json()
        if key in _COMPILED_OK:
            return self
        mapping = self.destination.mapping
        if mapping is not None:
            compile_mapping(mapping, flow=self.name)
        steps = steps_mapping(self.destination)
        if steps is not None:
            compile_mapping(steps, flow=self.name)
        for rule in [*([self.activate_for] if self.activate_for is not None else []), *self.filters]:
            compile_rule(rule)
        _COMPILED_OK[key] = None
        while len(_COMPILED_OK) > 256:
            _COMPILED_OK.pop(next(iter(_COMPILED_OK)))
        return self
