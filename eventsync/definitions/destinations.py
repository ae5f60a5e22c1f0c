"""Native destination settings: Marketo, Eloqua, Salesforce, HubSpot (issue 7).

Each kind names a connection, maps record fields to the vendor's fields (the same expression
language as webhook mappings: a JSONPath over the record context, or `=constant`) and says which
follow-up steps run after the person upsert. A value that varies per event (a Marketo program, a
Salesforce campaign) is a `Ref`: fixed, or read from an event question answer on the record.
Pacing defaults to the vendor's documented limits; `share` takes a part of them for accounts
where other integrations spend the same limit.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from eventsync.definitions.common import Strict


class Ref(Strict):
    """A vendor id (program, campaign, ...): fixed for every event, or from an event question."""

    id: str | None = Field(None, description="the same id for every event")
    from_: str | None = Field(
        None,
        alias="from",
        description="JSONPath over the record context holding the id, e.g. the answer to an event "
        "question: `$.event_questions.MKTO_PROGRAM`",
    )

    @model_validator(mode="after")
    def _one(self) -> Ref:
        if (self.id is None) == (self.from_ is None):
            raise ValueError("give exactly one of 'id' (fixed) or 'from' (an expression)")
        if self.from_ is not None and not self.from_.startswith("$"):
            raise ValueError(f"'from' must be a JSONPath starting with '$', got {self.from_!r}")
        return self

    def expression(self) -> str:
        return f"={self.id}" if self.id is not None else str(self.from_)


class StatusStep(Strict):
    """A membership status set after the upsert (program member, campaign member, activity)."""

    ref: Ref = Field(description="program / campaign id")
    status: str = Field("$.status", description="expression for the status; `=Registered` for a constant")
    status_map: dict[str, str] = Field(
        default_factory=dict,
        description="platform value -> vendor status (e.g. Attended -> Attended, Cancelled -> No Show); "
        "a value not in the map is sent as it is",
    )


class Pacing(Strict):
    share: float = Field(
        1.0,
        gt=0,
        le=1,
        description="part of the vendor's documented rate and concurrency limits this flow may use",
    )


class MarketoDestination(Strict):
    kind: Literal["marketo"] = "marketo"
    connection: str
    fields: dict[str, str] = Field(description="Marketo lead field -> expression")
    lookup_field: str = Field("email", description="Sync Leads lookupField (the dedupe key)")
    action: Literal["createOrUpdate", "createOnly", "updateOnly"] = "createOrUpdate"
    partition_name: str | None = None
    program: StatusStep | None = Field(None, description="program member status after the upsert")
    campaign: Ref | None = Field(None, description="smart campaign to request for the lead")
    pacing: Pacing = Field(default_factory=lambda: Pacing(share=1.0))

    @model_validator(mode="after")
    def _lookup_mapped(self) -> MarketoDestination:
        if self.lookup_field not in self.fields:
            raise ValueError(f"lookup_field {self.lookup_field!r} must be one of the mapped 'fields'")
        return self


class HubSpotDestination(Strict):
    kind: Literal["hubspot"] = "hubspot"
    connection: str
    properties: dict[str, str] = Field(description="HubSpot contact property -> expression")
    id_property: str = Field("email", description="unique property the upsert matches on")
    burst_limit: int = Field(
        100, ge=1, description="requests per 10 s of the account's tier (100 Free/Starter, 190 Pro/Ent)"
    )
    daily_reset_timezone: str = Field(
        "UTC", description="account time zone: the DAILY limit resets at its midnight"
    )
    pacing: Pacing = Field(default_factory=lambda: Pacing(share=1.0))

    @model_validator(mode="after")
    def _id_mapped(self) -> HubSpotDestination:
        if self.id_property not in self.properties:
            raise ValueError(f"id_property {self.id_property!r} must be one of the mapped 'properties'")
        return self


class SalesforceDestination(Strict):
    kind: Literal["salesforce"] = "salesforce"
    connection: str
    sobject: Literal["Lead", "Contact"] = "Lead"
    external_id_field: str = Field(description="external ID field the upsert matches on")
    fields: dict[str, str] = Field(description="Salesforce field -> expression")
    api_version: str = Field("v60.0", pattern=r"^v\d+\.\d$")
    campaign: StatusStep | None = Field(None, description="CampaignMember with status after the upsert")
    member_external_id_field: str = Field(
        "External_Id__c",
        description="external ID field on CampaignMember (holds '<campaign>:<person>') so members "
        "are created or updated in one collections call",
    )
    pacing: Pacing = Field(default_factory=lambda: Pacing(share=1.0))

    @model_validator(mode="after")
    def _ext_mapped(self) -> SalesforceDestination:
        if self.external_id_field not in self.fields:
            raise ValueError(
                f"external_id_field {self.external_id_field!r} must be one of the mapped 'fields'"
            )
        return self


class EloquaActivity(Strict):
    """An external activity per record, tied to a campaign."""

    campaign: Ref
    asset_type: str = Field(description="external asset type, e.g. 'Event Session'")
    asset_name: str = Field("$.event.code", description="expression; the event by default")
    activity_type: str = Field("$.status", description="expression, e.g. Registered / Attended")
    status_map: dict[str, str] = Field(default_factory=dict)


class EloquaForm(Strict):
    form_id: str
    fields: dict[str, str] = Field(description="form field id -> expression")


class EloquaDestination(Strict):
    kind: Literal["eloqua"] = "eloqua"
    connection: str
    fields: dict[str, str] = Field(
        description="contact field internal name (C_EmailAddress, ...) -> expression"
    )
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
    pacing: Pacing = Field(default_factory=lambda: Pacing(share=1.0))

    @model_validator(mode="after")
    def _ident_mapped(self) -> EloquaDestination:
        if self.identifier_field not in self.fields:
            raise ValueError(f"identifier_field {self.identifier_field!r} must be one of the mapped 'fields'")
        if "C_EmailAddress" not in self.fields:
            raise ValueError("'fields' must map C_EmailAddress (a new contact needs an email address)")
        return self


VendorDestination = MarketoDestination | HubSpotDestination | SalesforceDestination | EloquaDestination


def expressions_of(dest: VendorDestination) -> dict[str, str]:
    """Every expression of a vendor destination, by a name the adapter reads the value back with."""
    out: dict[str, str] = {}
    if isinstance(dest, HubSpotDestination):
        fields = dest.properties
    else:
        fields = dest.fields
    out.update({f"field.{k}": v for k, v in fields.items()})
    steps: list[tuple[str, StatusStep | None]] = []
    if isinstance(dest, MarketoDestination):
        steps.append(("program", dest.program))
        if dest.campaign is not None:
            out["campaign.ref"] = dest.campaign.expression()
    if isinstance(dest, SalesforceDestination):
        steps.append(("campaign", dest.campaign))
    for name, step in steps:
        if step is not None:
            out[f"{name}.ref"] = step.ref.expression()
            out[f"{name}.status"] = step.status
    if isinstance(dest, EloquaDestination):
        if dest.activity is not None:
            out["activity.campaign"] = dest.activity.campaign.expression()
            out["activity.asset_name"] = dest.activity.asset_name
            out["activity.type"] = dest.activity.activity_type
        if dest.form is not None:
            out.update({f"form.{k}": v for k, v in dest.form.fields.items()})
    return out
