"""A registration as tag rules and mappings read it (eventsync.tags, docs/transforms.md), and how
it is built from a platform record (as a webhook or the API carries it, `includeList=all`):

- `record`: the record JSON as the platform sent it (tags included, as sent);
- status / attendee type: `registrationStatusLabel`, `attendeeTypeCode`, with the tag names
  under `tags.registrationStatus` / `tags.attendeeType`;
- `event`: what the webhook says about the event (`eventCode`, `eventId`, `accountCode`) and its
  tags (`tags.event`); the event's name and dates are not in a webhook;
- `answers`: by `questionCode`, a single answer as its value, several as a list, none as None,
  each with the question's tags; `properties`: custom properties by `name`, with their tags.

The previous registration (for `changed_to`) is the same record with the previous status and
that status's tags, which the caller looks up (the webhook carries only the previous label).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from eventsync.platform.tags import tag_names as _tag_names


@dataclass(frozen=True, slots=True)
class TaggedValue:
    """A question's answer or a custom property's value, with the tags on that question/property.

    `value` is what the platform holds: text, a number, a boolean, a list (a multi-choice
    answer) or None when unanswered.
    """

    value: Any
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Registration:
    """A registration with the tags on each of its objects, as rules and mappings see it.

    Built by `registration_of` (below) from the platform's Registration record and the
    account's tag assignments:

    - `record`: the Registration JSON as the platform returns it (profile, dates, ...).
    - `status` / `status_tags`: the registration status label and the tags on that status.
    - `attendee_type` / `attendee_type_tags`: the attendee type code and its tags.
    - `event` / `event_tags`: the Event JSON (code, name, dates, ...) and the event's tags.
    - `answers`: registration question answers by question code, each with the question's tags.
    - `properties`: custom registration property values by property code, with their tags.

    Tags are names exactly as defined in Account Settings > Management > Tags.
    """

    record: Mapping[str, Any] = field(default_factory=dict)
    status: str | None = None
    status_tags: tuple[str, ...] = ()
    attendee_type: str | None = None
    attendee_type_tags: tuple[str, ...] = ()
    event: Mapping[str, Any] = field(default_factory=dict)
    event_tags: tuple[str, ...] = ()
    answers: Mapping[str, TaggedValue] = field(default_factory=dict)
    properties: Mapping[str, TaggedValue] = field(default_factory=dict)

    def scope(self, roots: Collection[str] | None = None) -> dict[str, Any]:
        """The JSON document that mapping expressions are evaluated against (see docs/transforms.md).

        `roots` limits it to the top-level keys a compiled mapping actually reads.
        """
        want = SCOPE_ROOTS if roots is None else roots
        scope: dict[str, Any] = {}
        if "record" in want:
            scope["record"] = self.record
        if "status" in want:
            scope["status"] = self.status
        if "attendee_type" in want:
            scope["attendee_type"] = self.attendee_type
        if "event" in want:
            scope["event"] = self.event
        if "answers" in want:
            scope["answers"] = {code: a.value for code, a in self.answers.items()}
        if "properties" in want:
            scope["properties"] = {code: p.value for code, p in self.properties.items()}
        if "tags" in want:
            scope["tags"] = {
                "status": list(self.status_tags),
                "attendee_type": list(self.attendee_type_tags),
                "event": list(self.event_tags),
                "answers": {code: list(a.tags) for code, a in self.answers.items()},
                "properties": {code: list(p.tags) for code, p in self.properties.items()},
            }
        return scope


SCOPE_ROOTS = frozenset({"record", "status", "attendee_type", "event", "answers", "properties", "tags"})




def _answer(q: Mapping[str, Any]) -> Any:
    answers = q.get("answers")
    items = answers.get("answer") if isinstance(answers, dict) else answers
    if not isinstance(items, list) or not items:
        return None
    values = [a.get("value") if isinstance(a, dict) else a for a in items]
    return values[0] if len(values) == 1 else values


def registration_of(record: Mapping[str, Any], event_code: str = "", event_id: Any = None) -> Registration:
    tags = record.get("tags") if isinstance(record.get("tags"), dict) else {}
    assert isinstance(tags, dict)
    answers: dict[str, TaggedValue] = {}
    rq = record.get("registrationQuestions")
    questions = rq.get("question") if isinstance(rq, dict) else rq
    for q in questions if isinstance(questions, list) else []:
        if isinstance(q, dict):
            code = q.get("questionCode") or q.get("questionId")
            if code is not None:
                answers[str(code)] = TaggedValue(_answer(q), _tag_names(q.get("tags")))
    properties: dict[str, TaggedValue] = {}
    for p in record.get("customProperties") or []:
        if isinstance(p, dict) and (p.get("name") or p.get("propertyId")) is not None:
            key = str(p.get("name") or p.get("propertyId"))
            properties[key] = TaggedValue(p.get("value"), _tag_names(p.get("tags")))
    event: dict[str, Any] = {
        "eventCode": record.get("eventCode") or event_code,
        "eventId": record.get("eventId", event_id),
        "accountCode": record.get("accountCode"),
    }
    return Registration(
        record=record,
        status=record.get("registrationStatusLabel"),
        status_tags=_tag_names(tags.get("registrationStatus")),
        attendee_type=record.get("attendeeTypeCode"),
        attendee_type_tags=_tag_names(tags.get("attendeeType")),
        event=event,
        event_tags=_tag_names(tags.get("event")),
        answers=answers,
        properties=properties,
    )


def previous_of(current: Registration, status: str | None, status_tags: tuple[str, ...]) -> Registration:
    """The registration as it was before a status change: same record, the previous status."""
    return replace(current, status=status, status_tags=status_tags)
