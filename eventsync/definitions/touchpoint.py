"""Touchpoint sync definition (docs/touchpoint.md).

One `touchpoint:` block per definitions file: which platform account feeds which Touchpoint,
the two reserved tags, and what happens to an attendee whose status loses the synced tag.
Real-time changes ride the Signal flow machinery (the block becomes a flow whose destination
kind is `touchpoint`); `eventsync touchpoint reprocess` pages through the platform.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from eventsync.definitions.common import Name, Strict
from eventsync.definitions.connections import Connection

OnLeave = Literal["deactivate", "delete"]


class TouchpointDestination(Strict):
    """The destination of the Touchpoint flow (built from `TouchpointDefinition.as_destination`).

    Also writable by hand as a Signal flow's destination (`kind: touchpoint`), which is how the
    delivery path knows the reserved tags and the leave behaviour.
    """

    kind: Literal["touchpoint"] = "touchpoint"
    connection: str = Field(description="the Touchpoint connection (vendor: touchpoint, bearer token)")
    synced_tag: str = "Touchpoint: Synced"
    related_link_tag: str = "Touchpoint: Related Link"
    on_leave: OnLeave = "deactivate"
    registrants: bool = True
    sessions: bool = True
    account: str | None = None
    events: list[int | str] = Field(
        default_factory=list, description="only these platform events (ids or codes); empty: all"
    )
    reread_from: Connection | None = Field(
        None,
        description="set by eventsync from the touchpoint block: the platform connection each "
        "delivery re-reads the record from, so the newest state wins whatever order webhooks arrive in",
    )

    @property
    def mapping(self) -> None:
        """The mapping is fixed (eventsync.touchpoint): the flow's body is the platform record."""
        return None


class TouchpointDefinition(Strict):
    name: Name = Field("touchpoint", description="the flow name its workflows and metrics carry")
    enabled: bool = True
    account: str = Field(description="platform account code")
    connection: str = Field(description="the Touchpoint connection")
    platform: str = Field(description="the platform connection (Basic auth), read by reprocess")
    events: list[int | str] = Field(
        default_factory=list,
        description="only these platform events: event ids (stable, recommended) or event codes "
        "(a code stops matching when an organiser changes it); empty = every event of the account",
    )
    synced_tag: str = Field(
        "Touchpoint: Synced",
        min_length=1,
        description="registrations whose status carries this tag are Touchpoint attendees",
    )
    related_link_tag: str = Field(
        "Touchpoint: Related Link",
        min_length=1,
        description="session custom fields carrying this tag give one related link each",
    )
    on_leave: OnLeave = Field(
        "deactivate",
        description="what a registrant whose status no longer carries the synced tag becomes: "
        "'deactivate' (kept, hidden from the app, reactivated if they come back) or 'delete'",
    )
    registrants: bool = True
    sessions: bool = True
    shards: int = Field(4, ge=1, le=256, description="flow workflows the real-time sync is spread over")
    max_attempts: int | None = Field(
        None, ge=1, description="also park after this many failed attempts (default: the 24 h retry window only)"
    )
    idle_finish_s: float = Field(300.0, gt=0)
    page_size: int = Field(100, ge=1, le=1000, description="platform page size for reprocess")
    reread: bool = Field(
        True,
        description="real time: read each record again from the platform when delivering it (one GET "
        "per event), so that a late or re-tried webhook can never write an older state",
    )

    def as_destination(self, platform: Connection | None = None) -> TouchpointDestination:
        return TouchpointDestination(
            account=self.account,
            events=list(self.events),
            reread_from=platform if self.reread else None,
            connection=self.connection,
            synced_tag=self.synced_tag,
            related_link_tag=self.related_link_tag,
            on_leave=self.on_leave,
            registrants=self.registrants,
            sessions=self.sessions,
        )
