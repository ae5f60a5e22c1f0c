"""From a platform record (as a webhook or the API carries it, `includeList=all`) to the
`Registration` that tag rules and mappings read (eventsync.tags, docs/transforms.md).

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

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from eventsync.platform_tags import tag_names as _tag_names
from eventsync.tags import Registration, TaggedValue


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
