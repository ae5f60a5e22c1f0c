from __future__ import annotations

import pytest

from eventsync.flows.events import EventParseError, parse_body
from eventsync.flows.sharding import idempotency_key, shard_of, workflow_id
from eventsync.flows.signature import SignatureError, Verifier, sign

S = b"secret"
NOW = 1_800_000_000


def test_valid_signature_passes_and_rotation_accepts_either_secret() -> None:
    v = Verifier([b"old", S])
    v.verify(str(NOW), sign(S, NOW, b"{}"), b"{}", NOW + 10)
    v.verify(str(NOW), sign(b"old", NOW, b"{}"), b"{}", NOW)


@pytest.mark.parametrize(
    ("ts", "sig", "body", "now", "kind"),
    [
        (None, "v1=00", b"{}", NOW, "missing"),
        (str(NOW), None, b"{}", NOW, "missing"),
        ("soon", sign(S, NOW, b"{}"), b"{}", NOW, "bad"),
        (str(NOW), sign(b"other", NOW, b"{}"), b"{}", NOW, "bad"),
        (str(NOW), sign(S, NOW, b"{}"), b"{} ", NOW, "bad"),
        (str(NOW), sign(S, NOW, b"{}"), b"{}", NOW + 301, "stale"),
        (str(NOW), sign(S, NOW, b"{}"), b"{}", NOW - 301, "stale"),
    ],
)
def test_refusals(ts: str | None, sig: str | None, body: bytes, now: int, kind: str) -> None:
    with pytest.raises(SignatureError) as e:
        Verifier([S]).verify(ts, sig, body, now)
    assert e.value.kind == kind


def test_replay_refused_only_after_acceptance() -> None:
    v = Verifier([S])
    sig = sign(S, NOW, b"{}")
    v.verify(str(NOW), sig, b"{}", NOW)  # not accepted yet (Temporal refused): a retry must pass
    v.verify(str(NOW), sig, b"{}", NOW)
    v.accepted(sig, NOW)
    with pytest.raises(SignatureError) as e:
        v.verify(str(NOW), sig, b"{}", NOW + 1)
    assert e.value.kind == "replayed"


def _ev(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "e1",
        "type": "registration.created",
        "account": "A",
        "data": {"registration": {"registrationCode": "R1"}},
    }
    base.update(over)
    return base


def test_parse_single_and_batch() -> None:
    assert parse_body(_ev())[0].record_key == "R1"
    evs = parse_body(
        {"events": [_ev(), _ev(id="e2", type="session.updated", data={"session": {"sessionCode": "S"}})]}
    )
    assert [e.record_key for e in evs] == ["R1", "session:S"]


@pytest.mark.parametrize(
    ("doc", "where", "unknown"),
    [
        (_ev(type="invoice.paid"), "$.type", True),
        ({"events": [_ev(), _ev(type="nope")]}, "$.events[1].type", True),
        (_ev(data={}), "registrationCode", False),
        (_ev(id=""), "id", False),
        (_ev(account=""), "missing account", False),
        ([1, 2], "$", False),
        ({"events": []}, "$.events", False),
    ],
)
def test_parse_errors_name_where(doc: object, where: str, unknown: bool) -> None:
    with pytest.raises(EventParseError) as e:
        parse_body(doc)
    assert where in str(e.value)
    assert e.value.unknown_type is unknown


def test_sharding_is_stable_and_spread() -> None:
    assert shard_of("R1", 8) == shard_of("R1", 8)
    assert len({shard_of(f"R{i}", 8) for i in range(200)}) == 8
    assert workflow_id("f", 3) == "signal/f/shard-3"
    assert idempotency_key("f", "e1") == idempotency_key("f", "e1") != idempotency_key("g", "e1")
