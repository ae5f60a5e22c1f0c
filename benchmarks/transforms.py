"""Throughput of the transforms on one core: Jolt chains (compiled vs jolt-py) and flow mappings.

    .venv/bin/python -m benchmarks.transforms [--seconds 6] [--fixture-seconds 0.1]

Prints records/s, by CPU time of this process (what one core does even when other work shares
the machine) and by wall clock, for
- the Eloqua contact -> registration chain of issue 15 (shift, shift, default,
  modify-overwrite-beta) over 1,000 generated contacts: compiled, and jolt-py on the same
  records in the same run (interleaved rounds, best round of each);
- the older registration chain (shift + default + modify), compiled and through jolt-py;
- every runnable case of Java Jolt's fixtures (tests/fixtures/jolt): compiled vs jolt-py on its
  own input, as a table, with the ratio;
- a realistic flow mapping: 30 fields, 2 conditional branches, 5 transforms.
Targets (issue 15): the Eloqua chain >= 100,000 records/s compiled and >= 30x jolt-py; each
fixture spec >= 10x jolt-py.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import json  # noqa: E402
import statistics  # noqa: E402

from pyjolt import Chainr  # noqa: E402

import eventsync.definitions  # noqa: E402, F401 - first: eventsync.tags alone is a circular import
from eventsync.registration import Registration, TaggedValue  # noqa: E402
from eventsync.transforms import jolt  # noqa: E402
from eventsync.transforms.mapping import compile_mapping  # noqa: E402

# A page record from a REST source, as API Fetch would get it, turned into a platform
# Bulk Registration Upsert row.
SOURCE_RECORD: dict[str, Any] = {
    "id": "a1b2c3",
    "attendee": {
        "email": "  Ann.Lee@Example.com ",
        "first_name": "ann",
        "last_name": "Lee",
        "company": {"name": "Example Corp", "size": "250"},
        "phone": "+1 555 0100",
        "title": None,
    },
    "ticket": {"type": "VIP", "price": "199.00", "paid": "true", "code": "T-1"},
    "answers": [
        {"question": "DIET", "value": "Vegan"},
        {"question": "TSHIRT", "value": "M"},
    ],
    "created_at": "2026-05-01T12:00:00Z",
    "updated_at": "2026-05-02T08:30:00Z",
}

JOLT_CHAIN: list[dict[str, Any]] = [
    {
        "operation": "shift",
        "spec": {
            "id": "externalKey",
            "attendee": {
                "email": "profile.email",
                "first_name": "profile.firstName",
                "last_name": "profile.lastName",
                "company": {"name": "profile.organization"},
                "phone": "profile.phone",
                "title": "profile.position",
            },
            "ticket": {"type": "attendeeTypeCode", "price": "fee", "paid": "isPaid"},
            "answers": {"*": {"value": "registrationQuestions.@(1,question)"}},
            "created_at": "dateCreated",
            "updated_at": "dateModified",
        },
    },
    {
        "operation": "default",
        "spec": {
            "registrationStatusLabel": "New",
            "profile": {"position": "Attendee", "organization": "Unknown"},
            "source": "api-fetch",
        },
    },
    {
        "operation": "modify-overwrite-beta",
        "spec": {
            "profile": {
                "email": "=trim",
                "firstName": "=toUpper",
                "fullName": "=concat(@(1,firstName),' ',@(1,lastName))",
            },
            "fee": "=toDouble",
            "isPaid": "=toBoolean",
        },
    },
]


def _tagged(value: Any, *tags: str) -> TaggedValue:
    return TaggedValue(value, tuple(tags))


REGISTRATION = Registration(
    record={
        "registrationCode": "R-1001",
        "registrationStatusLabel": "Registered",
        "dateCreated": "2026-05-01T12:00:00Z",
        "dateModified": "2026-05-02 08:30:00.0",
        "isActive": True,
        "profile": {
            "pin": "P-77",
            "externalKey": "ext-1",
            "firstName": "Ann",
            "lastName": "Lee",
            "email": "  Ann.Lee@Example.com ",
            "organization": "Example Corp",
            "position": "CTO",
            "phone": "+1 555 0100",
            "phoneMobile": "",
            "address": {"city": "Boston", "country": "US", "postalCode": "02110"},
        },
    },
    status="Registered",
    status_tags=("Marketo: Registered", "Touchpoint: Synced"),
    attendee_type="VIP",
    attendee_type_tags=("VIP",),
    event={"eventCode": "EV26", "name": "Summit 2026", "startDate": "2026-06-01", "city": "Boston"},
    event_tags=("Marketo Sync",),
    answers={
        "DIET": _tagged("Vegan", "Dietary"),
        "TSHIRT": _tagged("M"),
        "OPTIN": _tagged("Yes", "Consent"),
        "SESSIONS": _tagged(["S1", "S2"]),
    },
    properties={"REGION": _tagged("NA", "Region"), "SCORE": _tagged("42")},
)

MAPPING: dict[str, Any] = {
    "fields": {
        "email": {"path": "$.record.profile.email", "transforms": ["trim", "lower"]},
        "firstName": "$.record.profile.firstName",
        "lastName": "$.record.profile.lastName",
        "company": "$.record.profile.organization",
        "title": "$.record.profile.position",
        "phone": "$.record.profile.phone",
        "mobilePhone": {"path": "$.record.profile.phoneMobile", "default": "n/a"},
        "city": "$.record.profile.address.city",
        "country": "$.record.profile.address.country",
        "postalCode": "$.record.profile.address.postalCode",
        "pin": "$.record.profile.pin",
        "externalKey": "$.record.profile.externalKey",
        "registrationCode": "$.record.registrationCode",
        "status": "$.status",
        "attendeeType": "$.attendee_type",
        "eventCode": "$.event.eventCode",
        "eventName": "$.event.name",
        "eventStart": "$.event.startDate",
        "eventCity": "$.event.city",
        "diet": "$.answers.DIET",
        "tshirt": "$.answers.TSHIRT",
        "optIn": {"path": "$.answers.OPTIN", "transforms": ["boolean"]},
        "sessions": "$.answers.SESSIONS",
        "region": {
            "path": "$.properties.REGION",
            "transforms": [{"op": "lookup", "table": {"NA": "North America", "EU": "Europe"}}],
        },
        "score": {"path": "$.properties.SCORE", "transforms": ["number"]},
        "active": "$.record.isActive",
        "created": "$.record.dateCreated",
        "modified": "$.record.dateModified",
        "source": {"value": "eventsync"},
        "leadSource": {"value": "Event"},
    },
    "branches": [
        {
            "when": {"subject": "attendee_type", "op": "is", "value": "Staff"},
            "fields": {"leadSource": {"value": "Internal"}},
            "omit": ["optIn"],
        },
        {
            "when": {"subject": "status", "op": "is", "value": "Marketo: Registered"},
            "fields": {"leadSource": {"value": "Event Registered"}},
        },
    ],
}


def _rate(fn: Callable[[], Any], seconds: float, rounds: int = 3) -> tuple[float, float]:
    """Best records/s over `rounds`, by CPU time of this process (what one core does, even
    when other work shares the machine) and by wall-clock time."""
    best_cpu = best_wall = 0.0
    for _ in range(rounds):
        n = 0
        wall0, cpu0 = time.perf_counter(), time.process_time()
        deadline = wall0 + seconds / rounds
        while True:
            for _ in range(500):
                fn()
            n += 500
            wall = time.perf_counter()
            if wall >= deadline:
                break
        cpu = time.process_time() - cpu0
        best_cpu = max(best_cpu, n / max(cpu, 1e-9))
        best_wall = max(best_wall, n / (wall - wall0))
    return best_cpu, best_wall


# The chain of issue 15: an Eloqua contact (its custom fields in `fieldValues`) normalised by a
# first shift, reshaped into a platform registration by a second, defaulted, then cleaned.
ELOQUA_CHAIN: list[dict[str, Any]] = [
    {
        "operation": "shift",
        "spec": {
            "id": "contact.id",
            "emailAddress": "contact.email",
            "firstName": "contact.first",
            "lastName": "contact.last",
            "accountName": "contact.company",
            "title": "contact.title",
            "businessPhone": "contact.phone",
            "mobilePhone": "contact.mobile",
            "city": "contact.address.city",
            "country": "contact.address.country",
            "postalCode": "contact.address.postalCode",
            "createdAt": "contact.created",
            "updatedAt": "contact.updated",
            "isSubscribed": "contact.subscribed",
            "fieldValues": {"*": {"value": "custom.@(1,id)"}},
        },
    },
    {
        "operation": "shift",
        "spec": {
            "contact": {
                "id": "externalKey",
                "email": "profile.email",
                "first": "profile.firstName",
                "last": "profile.lastName",
                "company": "profile.organization",
                "title": "profile.position",
                "phone": "profile.phone",
                "mobile": "profile.phoneMobile",
                "address": {"*": "profile.address.&"},
                "created": "dateCreated",
                "updated": "dateModified",
                "subscribed": "optIn",
            },
            "custom": {
                "100001": "registrationQuestions.DIET",
                "100002": "registrationQuestions.TSHIRT",
                "*": "properties.&",
            },
        },
    },
    {
        "operation": "default",
        "spec": {
            "registrationStatusLabel": "New",
            "source": "eloqua",
            "profile": {"organization": "Unknown", "position": "Attendee"},
        },
    },
    {
        "operation": "modify-overwrite-beta",
        "spec": {
            "profile": {
                "email": "=toLower",
                "firstName": "=trim",
                "fullName": "=concat(@(1,firstName),' ',@(1,lastName))",
            },
            "optIn": "=toBoolean",
            "dateCreated": "=toInteger",
        },
    },
]


def eloqua_contact(i: int, custom_fields: int = 3) -> dict[str, Any]:
    """A contact as Eloqua's REST API returns it, varied by `i`.

    `custom_fields`: how many `fieldValues` it carries. With depth=complete Eloqua returns every
    custom contact field, typically dozens; 3 is the smallest shape that exercises the chain.
    """
    return {
        "type": "Contact",
        "id": str(10_000 + i),
        "createdAt": str(1_418_667_629 + i),
        "updatedAt": str(1_418_667_700 + i),
        "emailAddress": f"Attendee.{i}@Example{i % 7}.com",
        "firstName": f" Name{i} " if i % 2 else f"Name{i}",
        "lastName": f"Last{i}",
        "accountName": None if i % 5 == 0 else f"Company {i % 13}",
        "title": None if i % 3 == 0 else "CTO",
        "businessPhone": f"+1 555 {i % 10_000:04d}",
        "mobilePhone": "",
        "city": "Boston",
        "country": "US",
        "postalCode": f"{i % 100_000:05d}",
        "isSubscribed": "true" if i % 4 else "false",
        "isBounceback": "false",
        "fieldValues": [
            {"type": "FieldValue", "id": "100001", "value": ["Vegan", "None", "Halal"][i % 3]},
            {"type": "FieldValue", "id": "100002", "value": ["S", "M", "L", "XL"][i % 4]},
            *(
                {"type": "FieldValue", "id": str(100_003 + n), "value": f"value {n}" if (i + n) % 3 else ""}
                for n in range(custom_fields - 2)
            ),
        ],
    }


def eloqua_by_hand(c: dict[str, Any]) -> dict[str, Any]:
    """The Eloqua chain written by hand for these records (a reference for the ceiling, not Jolt)."""
    profile: dict[str, Any] = {}
    out: dict[str, Any] = {"externalKey": c["id"], "profile": profile}
    profile["email"] = c["emailAddress"].lower()
    profile["firstName"] = c["firstName"].strip()
    profile["lastName"] = c["lastName"]
    profile["organization"] = c["accountName"] if c["accountName"] is not None else "Unknown"
    profile["position"] = c["title"] if c["title"] is not None else "Attendee"
    profile["phone"] = c["businessPhone"]
    profile["phoneMobile"] = c["mobilePhone"]
    profile["address"] = {"city": c["city"], "country": c["country"], "postalCode": c["postalCode"]}
    profile["fullName"] = f"{profile['firstName']} {profile['lastName']}"
    out["dateCreated"] = int(c["createdAt"])
    out["dateModified"] = c["updatedAt"]
    out["optIn"] = c["isSubscribed"] == "true"
    questions: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for fv in c["fieldValues"]:
        if fv["id"] == "100001":
            questions["DIET"] = fv["value"]
        elif fv["id"] == "100002":
            questions["TSHIRT"] = fv["value"]
        else:
            properties[fv["id"]] = fv["value"]
    out["registrationQuestions"] = questions
    if properties:
        out["properties"] = properties
    out["registrationStatusLabel"] = "New"
    out["source"] = "eloqua"
    return out


def _rate_over(fn: Callable[[Any], Any], records: list[Any], seconds: float) -> tuple[float, float]:
    """(records/s by CPU time, by wall clock) of `fn` over `records`, cycling, for `seconds`."""
    n = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    deadline = wall0 + seconds
    while True:
        for r in records:
            fn(r)
        n += len(records)
        if time.perf_counter() >= deadline:
            break
    return n / max(time.process_time() - cpu0, 1e-9), n / (time.perf_counter() - wall0)


def _side_by_side(
    compiled: Callable[[Any], Any], interpreted: Callable[[Any], Any], records: list[Any], seconds: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Best round of each, rounds interleaved so that machine noise hits both alike."""
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    for _ in range(10):
        ours.append(_rate_over(compiled, records, seconds / 20))
        theirs.append(_rate_over(interpreted, records, seconds / 20))
    return (max(r[0] for r in ours), max(r[1] for r in ours)), (
        max(r[0] for r in theirs),
        max(r[1] for r in theirs),
    )


FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "jolt"


def _fixture_cases() -> list[tuple[str, list[dict[str, Any]], Any, Any]]:
    """(id, chain, input, context) of every runnable positive case of Java Jolt's fixtures."""
    manifest = json.loads((FIXTURES / "MANIFEST.json").read_text())
    out = []
    for case in manifest["cases"]:
        if case["runner"] in ("skip", "negative") or case.get("custom_functions"):
            continue
        data = json.loads((FIXTURES / case["file"]).read_text())
        runner = case["runner"]
        if runner == "chainr":
            chain = data["spec"]
        elif runner == "chainr-slice":
            chain = data["spec"][data["start"] : data["end"]]
        else:
            entry: dict[str, Any] = {"operation": case.get("op", "default")}
            if "spec" in data:
                entry["spec"] = data["spec"]
            chain = [entry]
        out.append((case["id"], chain, data["input"], data.get("context")))
    return out


def _fixtures(seconds: float) -> list[tuple[str, float, float]]:
    rows = []
    for case_id, spec, data, context in _fixture_cases():
        chain = jolt.compile(spec)
        oracle = Chainr(list(chain._transforms))
        ours, theirs = _side_by_side(
            lambda r, c=chain, x=context: c.apply(r, x),
            lambda r, o=oracle, x=context: o.apply(r, x),
            [data] * 20,
            seconds,
        )
        rows.append((case_id, ours[0], theirs[0]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=6.0, help="time per chain measurement (default 6)")
    parser.add_argument(
        "--fixture-seconds", type=float, default=0.2, help="time per fixture case and side (default 0.2)"
    )
    parser.add_argument("--no-fixtures", action="store_true", help="skip the fixture table")
    args = parser.parse_args()

    eloqua = jolt.compile(ELOQUA_CHAIN)
    eloqua_py = Chainr.from_spec(ELOQUA_CHAIN)
    contacts = [eloqua_contact(i) for i in range(1000)]
    complete = [eloqua_contact(i, custom_fields=40) for i in range(1000)]
    assert all(eloqua.apply(c) == eloqua_py.apply(c) for c in contacts + complete)
    assert all(eloqua_by_hand(c) == eloqua.apply(c) for c in contacts + complete)
    assert all(s.compiled for s in eloqua.steps), [s.describe() for s in eloqua.steps]

    ours = jolt.compile(JOLT_CHAIN)
    direct = Chainr.from_spec(JOLT_CHAIN)
    assert ours.apply(SOURCE_RECORD) == direct.apply(SOURCE_RECORD)

    mapping = compile_mapping(MAPPING, flow="bench")
    out = mapping(REGISTRATION)
    assert out["leadSource"] == "Event Registered" and out["optIn"] is True and len(out) == 30, out
    transforms = sum(len(f.get("transforms", [])) for f in MAPPING["fields"].values() if isinstance(f, dict))

    e_ours, e_py = _side_by_side(eloqua.apply, eloqua_py.apply, contacts, args.seconds)
    c_ours, c_py = _side_by_side(eloqua.apply, eloqua_py.apply, complete, args.seconds)
    hand, _ = _side_by_side(eloqua_by_hand, eloqua_by_hand, contacts, args.seconds / 2)
    c_hand, _ = _side_by_side(eloqua_by_hand, eloqua_by_hand, complete, args.seconds / 2)
    r_ours, r_py = _side_by_side(ours.apply, direct.apply, [SOURCE_RECORD] * 100, args.seconds / 2)
    map_cpu, map_wall = _rate(lambda: mapping(REGISTRATION), args.seconds / 2, rounds=10)

    print(f"{'records/s on one core':66} {'cpu time':>12} {'wall clock':>12}")
    rows = [
        ("Eloqua chain (shift, shift, default, modify), 3 fieldValues, compiled", e_ours),
        ("Eloqua chain, 3 fieldValues, jolt-py", e_py),
        ("Eloqua chain, 40 fieldValues (depth=complete), compiled", c_ours),
        ("Eloqua chain, 40 fieldValues (depth=complete), jolt-py", c_py),
        ("the same mapping written by hand in Python, 3 fieldValues", hand),
        ("the same mapping written by hand in Python, 40 fieldValues", c_hand),
        ("registration chain (shift, default, modify), compiled", r_ours),
        ("registration chain, jolt-py", r_py),
        (
            f"flow mapping ({len(out)} fields, {len(MAPPING['branches'])} branches, {transforms} transforms)",
            (map_cpu, map_wall),
        ),
    ]
    for label, (cpu, wall) in rows:
        print(f"{label:66} {cpu:>12,.0f} {wall:>12,.0f}")
    for label, mine, theirs in (("3 fieldValues", e_ours, e_py), ("40 fieldValues", c_ours, c_py)):
        print(
            f"Eloqua chain, {label}: compiled / jolt-py = {mine[0] / theirs[0]:.1f}x (cpu), "
            f"{mine[1] / theirs[1]:.1f}x (wall); >= 100,000/s: {'yes' if mine[0] >= 100_000 else 'no'}, "
            f">= 30x: {'yes' if mine[0] / theirs[0] >= 30 else 'no'}"
        )
    print(f"registration chain: compiled / jolt-py = {r_ours[0] / r_py[0]:.1f}x (cpu)")

    if args.no_fixtures:
        return
    table = _fixtures(args.fixture_seconds)
    print()
    print(f"{'Jolt fixture case (records/s, cpu time)':44} {'compiled':>12} {'jolt-py':>12} {'ratio':>8}")
    for case_id, mine, theirs in table:
        flag = "" if mine / theirs >= 10 else "  < 10x"
        print(f"{case_id:44} {mine:>12,.0f} {theirs:>12,.0f} {mine / theirs:>7.1f}x{flag}")
    ratios = sorted(m / t for _, m, t in table)
    below = [c for c, m, t in table if m / t < 10]
    print(
        f"{len(table)} fixture cases: ratio min {ratios[0]:.1f}x, median {statistics.median(ratios):.1f}x, "
        f"max {ratios[-1]:.1f}x; {len(below)} below 10x"
    )


if __name__ == "__main__":
    main()
