"""Native destination settings: Marketo, Eloqua, Salesforce, HubSpot (docs/destinations.md).

A native destination maps a registration to the vendor's person fields with the one mapping
language of every flow (`mapping`: a `FlowMapping` with flat `fields` and tag `branches`,
docs/transforms.md). What stays here is vendor-specific: the key the vendor matches on (Marketo
lookupField, HubSpot idProperty, a Salesforce external ID, the Eloqua identifier), which follow-up
steps run after the person upsert, and the part of the vendor's limits the flow may use. A value
that varies per event (a Marketo program, a Salesforce or Eloqua campaign, a member status) is a
*source* of the same language: `{value: "1001"}` for every event, or a path such as
`$.answers.MKTO_PROGRAM` (the answer to a registration question). Platform statuses become vendor
statuses with a `lookup` transform.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_serializer, model_validator

from eventsync.definitions.common import Strict
from eventsync.transforms.mapping import FieldSource, FlowMapping, SourceRef


def _status_source() -> FieldSource:
    return FieldSource(path="$.status")


def _as_written(value: Strict | None) -> Any:
    # Sources mean what was *set* (`value: null` is a constant, an absent `value` is not), so they
    # cross Temporal (and any dump) as written, as flows.py does for webhook mappings.
    return None if value is None else value.model_dump(mode="json", exclude_unset=True)


class StatusStep(Strict):
    """A membership status set after the upsert (program member, campaign member)."""

    ref: SourceRef = Field(
        description="program / campaign id: `{value: '1001'}` for every event, or a path, e.g. the "
        "answer to a registration question: `$.answers.MKTO_PROGRAM`"
    )
    status: SourceRef = Field(
        default_factory=_status_source,
        description="the member status; `$.status` by default. Map platform statuses to the vendor's "
        "with a lookup: `{path: $.status, transforms: [{op: lookup, table: {Cancelled: No Show}}]}`",
    )


class Pacing(Strict):
    share: float = Field(
        1.0,
        gt=0,
        le=1,
        description="part of the vendor's documented rate and concurrency limits this flow may use",
    )


class _Native(Strict):
    """What every native destination has: a connection, a flat mapping, a pacing share."""

    connection: str
    mapping: FlowMapping = Field(
        description="the vendor's person fields: flat `fields` (and `branches` by tag), docs/transforms.md"
    )
    pacing: Pacing = Field(default_factory=lambda: Pacing(share=1.0))

    @field_serializer("mapping")
    def _mapping_as_written(self, mapping: FlowMapping) -> Any:
        return _as_written(mapping)

    def field_names(self) -> list[str]:
        """Every field the mapping can send (base and branches), in first-seen order."""
        names = dict.fromkeys(self.mapping.fields or {})
        for b in self.mapping.branches:
            names.update(dict.fromkeys(b.fields))
        return list(names)

    def _key_mapped(self, key: str, what: str) -> None:
        """Every record needs `key` (the vendor matches on it): mapped in the base, never omitted."""
        if self.mapping.fields is None:
            raise ValueError("a native destination's mapping has flat `fields`, not a `body`")
        if key not in self.mapping.fields:
            raise ValueError(f"{what} {key!r} must be one of the mapping's `fields`")
        for i, b in enumerate(self.mapping.branches):
            if key in b.omit:
                raise ValueError(f"mapping.branches[{i}] omits {key!r} ({what}): every record needs it")


class MarketoDestination(_Native):
    kind: Literal["marketo"] = "marketo"
    lookup_field: str = Field("email", description="Sync Leads lookupField (the dedupe key)")
    action: Literal["createOrUpdate", "createOnly", "updateOnly"] = "createOrUpdate"
    partition_name: str | None = None
    program: StatusStep | None = Field(None, description="program member status after the upsert")
    campaign: SourceRef | None = Field(
        None, description="smart campaign to request for the lead: `{value: '2001'}` or a path"
    )

    @field_serializer("program", "campaign")
    def _steps_as_written(self, value: Strict | None) -> Any:
        return _as_written(value)

    @model_validator(mode="after")
    def _lookup_mapped(self) -> MarketoDestination:
        self._key_mapped(self.lookup_field, "lookup_field")
        return self


class HubSpotDestination(_Native):
    kind: Literal["hubspot"] = "hubspot"
    id_property: str = Field("email", description="unique property the upsert matches on")
    burst_limit: int = Field(
        100, ge=1, description="requests per 10 s of the account's tier (100 Free/Starter, 190 Pro/Ent)"
    )
    daily_reset_timezone: str = Field(
        "UTC", description="account time zone: the DAILY limit resets at its midnight"
    )

    @model_validator(mode="after")
    def _id_mapped(self) -> HubSpotDestination:
        self._key_mapped(self.id_property, "id_property")
        return self


class SalesforceDestination(_Native):
    kind: Literal["salesforce"] = "salesforce"
    sobject: Literal["Lead", "Contact"] = "Lead"
    external_id_field: str = Field(description="external ID field the upsert matches on")
    api_version: str = Field("v60.0", pattern=r"^v\d+\.\d$")
    campaign: StatusStep | None = Field(None, description="CampaignMember with status after the upsert")
    member_external_id_field: str = Field(
        "External_Id__c",
        description="external ID field on CampaignMember (holds '<campaign>:<person>') so members "
        "are created or updated in one collections call",
    )

    @field_serializer("campaign")
    def _steps_as_written(self, value: Strict | None) -> Any:
        return _as_written(value)

    @model_validator(mode="after")
    def _ext_mapped(self) -> SalesforceDestination:
        self._key_mapped(self.external_id_field, "external_id_field")
        return self


class EloquaActivity(Strict):
    """An external activity per record, tied to a campaign."""

    campaign: SourceRef = Field(
        description="campaign id: `{value: '77'}` or a path such as $.answers.ELQ_CAMPAIGN"
    )
    asset_type: str = Field(description="external asset type, e.g. 'Event Session'")
    asset_name: SourceRef = Field(
        default_factory=lambda: FieldSource(path="$.event.eventCode"), description="the event code by default"
    )
    activity_type: SourceRef = Field(
        default_factory=_status_source,
        description="e.g. Registered / Attended: the status by default (a lookup transform maps it)",
    )


class EloquaForm(Strict):
    form_id: str
    fields: dict[str, SourceRef] = Field(description="form field id -> source")


class EloquaDestination(_Native):
    kind: Literal["eloqua"] = "eloqua"
    identifier_field: str = Field("C_EmailAddress", description="the field contacts are matched on")
    update_rule: Literal["always", "ifNewIsNotNull", "ifExistingIsNull"] = "always"
    contact_list_id: str | None = Field(None, description="add every delivered contact to this list")
    activity: EloquaActivity | None = None
    form: EloquaForm | None = None
    rest_max_batch: int = Field(
        10,
        ge=0,
        description="batches of at most this many records use REST single-contact calls (no bulk "
        "polling latency); larger ones a Bulk 2.0 import. 0 = always bulk",
    )

    @field_serializer("activity", "form")
    def _steps_as_written(self, value: Strict | None) -> Any:
        return _as_written(value)

    @model_validator(mode="after")
    def _ident_mapped(self) -> EloquaDestination:
        self._key_mapped(self.identifier_field, "identifier_field")
        self._key_mapped("C_EmailAddress", "a new contact's email address")
        return self


VendorDestination = MarketoDestination | HubSpotDestination | SalesforceDestination | EloquaDestination


def step_sources(dest: VendorDestination) -> dict[str, FieldSource]:
    """The per-event values of the follow-up steps (program, campaign, activity, form), by the
    name the adapter reads them back with. The person fields are the destination's `mapping`."""
    out: dict[str, FieldSource] = {}
    if isinstance(dest, MarketoDestination):
        if dest.program is not None:
            out["program.ref"] = dest.program.ref
            out["program.status"] = dest.program.status
        if dest.campaign is not None:
            out["campaign.ref"] = dest.campaign
    elif isinstance(dest, SalesforceDestination):
        if dest.campaign is not None:
            out["campaign.ref"] = dest.campaign.ref
            out["campaign.status"] = dest.campaign.status
    elif isinstance(dest, EloquaDestination):
        if dest.activity is not None:
            out["activity.campaign"] = dest.activity.campaign
            out["activity.asset_name"] = dest.activity.asset_name
            out["activity.type"] = dest.activity.activity_type
        if dest.form is not None:
            out.update({f"form.{k}": v for k, v in dest.form.fields.items()})
    return out


def steps_mapping(dest: object) -> FlowMapping | None:
    """The follow-up steps' sources as one flat mapping (compiled once per flow, like `mapping`);
    None for a destination without steps."""
    if not isinstance(
        dest, MarketoDestination | HubSpotDestination | SalesforceDestination | EloquaDestination
    ):
        return None
    steps = step_sources(dest)
    return FlowMapping(fields=dict(steps)) if steps else None
