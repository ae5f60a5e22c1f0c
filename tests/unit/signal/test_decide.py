from __future__ import annotations

from eventsync.definitions.flows import FlowDefinition
from eventsync.signal.decide import decide, render
from eventsync.signal.events import PlatformEvent


def flow(**over: object) -> FlowDefinition:
    raw: dict[str, object] = {
        "name": "f",
        "source": {"account": "A", "events": ["registration.status_changed"]},
        "activate_for": {"tags": [{"on": "status", "op": "changed_to", "tags": ["Marketo: Sync"]}]},
        "destination": {
            "kind": "webhook",
            "connection": "c",
            "mappings": [
                {"when_tag": "VIP", "fields": {"email": "$.email", "vip": "=yes"}},
                {"fields": {"email": "$.email", "event": "$.event.code"}},
            ],
        },
    }
    raw.update(over)
    return FlowDefinition.model_validate(raw)


def ev(status_tags: list[str], prev: list[str], etype: str = "registration.status_changed") -> PlatformEvent:
    return PlatformEvent(
        id="e",
        type=etype,
        account="A",
        event_code="EV",
        record_key="R",
        data={
            "registration": {"registrationCode": "R", "email": "a@b.c", "tags": {"status": status_tags}},
            "previous_status_tags": prev,
        },
    )


def test_activated_and_skipped_with_the_rule() -> None:
    assert decide(flow(), ev(["Marketo: Sync"], [])).activated
    d = decide(flow(), ev(["Marketo: Sync"], ["Marketo: Sync"]))
    assert not d.activated and "changed_to" in d.rule
    d2 = decide(flow(), ev(["Marketo: Sync"], [], etype="registration.created"))
    assert not d2.activated and "not a trigger" in d2.rule


def test_mapping_by_tag_and_nested_template() -> None:
    assert render(flow(), ev(["VIP"], [])) == {"email": "a@b.c", "vip": "yes"}
    assert render(flow(), ev([], [])) == {"email": "a@b.c", "event": "EV"}
    adv = flow(
        destination={
            "kind": "advanced_webhook",
            "connection": "c",
            "template": {"person": {"email": "$.email", "kind": "lead"}, "ids": ["$.registrationCode"]},
        }
    )
    assert render(adv, ev([], [])) == {"person": {"email": "a@b.c", "kind": "lead"}, "ids": ["R"]}
