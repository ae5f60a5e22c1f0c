from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import platform, webhook
from sandbox.serving import served

AUTH = ("sandbox", "sandbox")
API = platform.API
REGS = 57


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    with served(platform.create_app()) as p, served(webhook.create_app()) as w:
        yield p.url, w.url


@pytest.fixture(scope="module")
def http(servers: tuple[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=servers[0], auth=AUTH) as client:
        yield client


@pytest.fixture(scope="module")
def receiver(servers: tuple[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=servers[1]) as client:
        yield client


@pytest.fixture(autouse=True)
def _fresh(http: httpx.Client, receiver: httpx.Client) -> None:
    http.post("/_sandbox/reset")
    receiver.post("/_sandbox/reset")
    r = http.post(
        "/_sandbox/populate",
        json={"seed": 1, "events": 2, "registrations_per_event": REGS, "sessions_per_event": 4},
    )
    assert r.json()["events"] == ["SUMMIT26", "EXPO26"]


def hook_on(http: httpx.Client, receiver_url: str, **kw: Any) -> None:
    cfg = {"url": f"{receiver_url}/hooks", "secret": "whsec", "backoff_initial_s": 0.01, **kw}
    assert http.put("/_sandbox/webhooks", json=cfg).status_code == 200


def drain(http: httpx.Client) -> None:
    assert http.post("/_sandbox/webhooks/drain", params={"timeout": 20}).json()["drained"]


def test_basic_auth_success_and_failure_shapes(servers: tuple[str, str]) -> None:
    url = f"{servers[0]}{API}/Event/DEMO"
    none = httpx.get(url)
    assert none.status_code == 401
    assert none.headers["www-authenticate"].startswith("Basic")
    assert none.json() == {"statusCode": 401, "message": "Authentication required (HTTP Basic)"}
    wrong = httpx.get(url, auth=("sandbox", "nope"))
    assert wrong.status_code == 401 and wrong.json()["message"] == "Invalid username or password"
    ok = httpx.get(url, auth=AUTH)
    assert ok.status_code == 200
    assert [e["eventCode"] for e in ok.json()["events"]] == ["SUMMIT26", "EXPO26"]


def test_paging_to_the_end_with_envelope_then_404(http: httpx.Client) -> None:
    seen: list[str] = []
    start = 0
    while True:
        r = http.get(f"{API}/Registration/DEMO/SUMMIT26", params={"max_results": 10, "start_index": start})
        if r.status_code == 404:
            assert r.json()["statusCode"] == 404
            break
        body = r.json()
        assert body["completeCollectionSize"] == REGS
        assert body["startingIndex"] == start and body["maxResults"] == 10
        assert body["size"] == len(body["registrations"]) <= 10
        seen += [g["registrationCode"] for g in body["registrations"]]
        start += body["size"]
    assert len(seen) == len(set(seen)) == REGS
    account_wide = http.get(f"{API}/Registration/DEMO", params={"max_results": 1000}).json()
    assert account_wide["completeCollectionSize"] == 2 * REGS
    clamped = http.get(f"{API}/Registration/DEMO", params={"max_results": 5000}).json()
    assert clamped["maxResults"] == 1000


def test_empty_filter_result_is_404_and_bad_params_are_400(http: httpx.Client) -> None:
    r = http.get(f"{API}/Registration/DEMO/SUMMIT26", params={"dateModified_after": "2100-01-01T00:00:00Z"})
    assert r.status_code == 404
    bad = http.get(f"{API}/Registration/DEMO/SUMMIT26", params={"orderBy": "shoeSize_asc"})
    assert bad.status_code == 400 and "orderBy" in bad.json()["message"]
    assert http.get(f"{API}/Registration/DEMO/SUMMIT26", params={"max_results": "x"}).status_code == 400
    assert http.get(f"{API}/Registration/DEMO/NOPE").status_code == 404


def test_date_modified_after_and_order_by(http: httpx.Client) -> None:
    regs = http.get(
        f"{API}/Registration/DEMO/SUMMIT26", params={"orderBy": "dateModified_asc", "max_results": 1000}
    ).json()["registrations"]
    stamps = [g["dateModified"] for g in regs]
    assert stamps == sorted(stamps)
    high = stamps[-1]
    target = regs[3]["registrationCode"]
    http.post(f"{API}/Registration/DEMO/SUMMIT26/{target}", json={"profile": {"position": "CEO"}})
    changed = http.get(f"{API}/Registration/DEMO/SUMMIT26", params={"dateModified_after": high}).json()
    assert [g["registrationCode"] for g in changed["registrations"]] == [target]
    assert changed["registrations"][0]["profile"]["position"] == "CEO"
    desc = http.get(
        f"{API}/Registration/DEMO/SUMMIT26", params={"orderBy": "lastName_desc", "max_results": 1000}
    )
    names = [g["profile"]["lastName"] for g in desc.json()["registrations"]]
    assert names == sorted(names, reverse=True)


def test_include_list_tags_on_registrations_and_objects(http: httpx.Client) -> None:
    plain = http.get(f"{API}/Registration/DEMO/SUMMIT26", params={"max_results": 1}).json()["registrations"][
        0
    ]
    assert "tags" not in plain and "registrationQuestions" not in plain
    new_reg = http.get(
        f"{API}/Registration/DEMO/SUMMIT26",
        params={
            "registrationStatusLabel": "New",
            "includeList": "tags,registration_questions,reg_properties",
        },
    ).json()["registrations"][0]
    names = {t["name"] for t in new_reg["tags"]["registrationStatus"]}
    assert names == {"Touchpoint: Synced", "Signal: Registered"}
    assert {t["name"] for t in new_reg["tags"]["event"]} == {"Signal: Flagship"}
    campaign = next(
        q for q in new_reg["registrationQuestions"]["question"] if q["questionCode"] == "CAMPAIGN"
    )
    assert campaign["tags"][0]["name"] == "Signal: Campaign ID" and campaign["answers"]["answer"][0]["value"]
    assert {p["name"] for p in new_reg["customProperties"]} == {"T-shirt size", "Segment"}

    statuses = http.get(f"{API}/RegistrationStatus/DEMO/SUMMIT26", params={"includeList": "tags"}).json()
    by_label = {s["label"]: s for s in statuses["registrationStatuses"]}
    assert len(by_label) == 12 and by_label["Confirmed VIP"]["isStandard"] is False
    assert by_label["Request Denied"]["classification"] == "Denied"
    assert [t["name"] for t in by_label["Cancelled"]["tags"]] == ["Signal: Cancelled"]
    fields = http.get(f"{API}/SessionCustomField/DEMO/SUMMIT26", params={"includeList": "tags"}).json()
    tagged = [f["name"] for f in fields["customFields"] if f["tags"]]
    assert tagged == ["Slides", "Recording"]
    types = http.get(f"{API}/AttendeeType/DEMO/SUMMIT26", params={"includeList": "tags"}).json()[
        "attendeeTypes"
    ]
    assert {t["attendeeTypeCode"]: [x["name"] for x in t["tags"]] for t in types}["VIP"] == ["Signal: VIP"]
    tags = http.get(f"{API}/Tag/DEMO", params={"object": "SessionCustomField"}).json()["tags"]
    assert [t["name"] for t in tags] == ["Touchpoint: Related Link"]


def test_tags_only_apply_to_their_objects(http: httpx.Client) -> None:
    bad = http.post(f"{API}/AttendeeType/DEMO/SUMMIT26/ATT", json={"tags": ["Touchpoint: Synced"]})
    assert bad.status_code == 400 and "may not be applied to AttendeeType" in bad.json()["message"]
    assert http.post(f"{API}/Tag/DEMO", json={"name": "X", "objects": ["Banana"]}).status_code == 400
    assert http.post(f"{API}/Tag/DEMO", json={"name": "TP", "objects": ["AttendeeType"]}).status_code == 200
    ok = http.post(f"{API}/AttendeeType/DEMO/SUMMIT26/ATT", json={"tags": ["TP"]})
    assert [t["name"] for t in ok.json()["tags"]] == ["TP"]
    std = http.post(f"{API}/AccountRegistrationStatus/DEMO/Invited", json={"tags": ["Touchpoint: Synced"]})
    assert [t["name"] for t in std.json()["tags"]] == ["Touchpoint: Synced"]


def test_create_update_registration_and_profile_matching(http: httpx.Client) -> None:
    base = f"{API}/Registration/DEMO/EXPO26"
    body = {
        "profile": {"firstName": "Jo", "lastName": "Doe", "email": "jo@example.org", "pin": "PIN-JO"},
        "attendeeTypeCode": "SPK",
        "registrationStatusLabel": "Pre-Registered",
        "questions": {"JOBFN": "CTO"},
        "customProperties": [{"name": "T-shirt size", "value": "M"}],
    }
    created = http.post(base, json=body, params={"includeList": "all"}).json()
    assert created["registrationStatusLabel"] == "Pre-Registered" and created["eventId"] > 0
    assert created["dateCreated"] == created["dateModified"]
    assert created["customProperties"][0]["value"] == "M"
    dup = http.post(base, json=body)
    assert dup.status_code == 400 and "profile pin" in dup.json()["message"]
    again = http.post(
        f"{API}/Registration/DEMO/SUMMIT26",
        json={"profile": {"email": "jo@example.org"}},
        params={"profileIdentifier": "EMAIL"},
    ).json()
    assert again["profile"]["pkProfileId"] == created["profile"]["pkProfileId"]
    no_dup = http.post(
        base,
        json={"profile": {"email": "jo@example.org"}},
        params={"profileIdentifier": "EMAIL", "allowduplicates": "no"},
    )
    assert no_dup.status_code == 409
    code = created["registrationCode"]
    upd = http.post(f"{base}/{code}", json={"registrationStatusLabel": "Attended"}).json()
    assert upd["registrationStatusLabel"] == "Attended" and upd["dateModified"] >= created["dateModified"]
    bad = http.post(f"{base}/{code}", json={"registrationStatusLabel": "Dancing"})
    assert bad.status_code == 400 and "Dancing" in bad.json()["message"]
    assert http.post(base, json={"profile": {"email": "not-an-email"}}).status_code == 400
    assert http.post(base, content=b"{oops").status_code == 400


def test_bulk_registration_upsert_per_record_results(http: httpx.Client) -> None:
    url = f"{API}/BulkRegistration/DEMO/EXPO26"
    existing = http.get(f"{API}/Registration/DEMO/EXPO26", params={"max_results": 1}).json()["registrations"][
        0
    ]
    records = [
        {"profile": {"email": "new1@example.org", "firstName": "New"}, "registrationStatusLabel": "New"},
        {"profile": {"email": existing["profile"]["email"]}, "registrationStatusLabel": "Cancelled"},
        {"profile": {"firstName": "No email"}},
        {"profile": {"email": "new2@example.org"}, "attendeeTypeCode": "NOPE"},
        {"profile": {"email": "NEW1@example.org", "lastName": "Again"}},
    ]
    r = http.post(url, json={"matchBy": "email", "registrations": records}).json()
    assert (r["created"], r["updated"], r["failed"]) == (1, 2, 2)
    assert [x["status"] for x in r["results"]] == ["created", "updated", "failed", "failed", "updated"]
    assert [x["index"] for x in r["results"]] == [0, 1, 2, 3, 4]
    assert r["results"][1]["registrationCode"] == existing["registrationCode"]
    assert r["results"][2]["errors"][0]["code"] == "MISSING_MATCH_KEY"
    assert "NOPE" in r["results"][3]["errors"][0]["message"]
    assert r["results"][4]["registrationCode"] == r["results"][0]["registrationCode"]
    by_ext = http.post(
        url,
        json={
            "matchBy": "externalKey",
            "registrations": [{"profile": {"externalKey": existing["profile"]["externalKey"]}}],
        },
    ).json()
    assert by_ext["results"][0]["registrationCode"] == existing["registrationCode"]
    by_pin = http.post(
        url,
        params={"matchBy": "pin"},
        json={"registrations": [{"profile": {"pin": "BRAND-NEW", "email": "p@x.org"}}]},
    ).json()
    assert by_pin["results"][0]["status"] == "created"
    too_many = http.post(url, json={"registrations": [{"profile": {"email": "a@b.co"}}] * 1001})
    assert too_many.status_code == 400 and "at most 1000" in too_many.json()["message"]


def test_reassign_status_touches_date_modified(http: httpx.Client) -> None:
    regs = http.get(
        f"{API}/Registration/DEMO/SUMMIT26",
        params={"registrationStatusLabel": "Waitlist Hold", "max_results": 1000},
    ).json()["registrations"]
    newest = max(
        g["dateModified"]
        for g in http.get(f"{API}/Registration/DEMO/SUMMIT26", params={"max_results": 1000}).json()[
            "registrations"
        ]
    )
    r = http.post(
        f"{API}/MassAction/DEMO/SUMMIT26/reassignStatus", json={"fromStatusLabel": "Waitlist Hold"}
    ).json()
    assert r["affected"] == len(regs) > 0
    touched = http.get(
        f"{API}/Registration/DEMO/SUMMIT26", params={"dateModified_after": newest, "max_results": 1000}
    )
    got = touched.json()["registrations"]
    assert {g["registrationCode"] for g in got} == {g["registrationCode"] for g in regs}
    assert all(g["registrationStatusLabel"] == "Waitlist Hold" for g in got)


def test_event_code_change_keeps_event_id(http: httpx.Client) -> None:
    before = http.get(f"{API}/Event/DEMO/EXPO26").json()
    after = http.post(f"{API}/Event/DEMO/EXPO26", json={"eventCode": "EXPO2026"}).json()
    assert after["eventId"] == before["eventId"] and after["eventCode"] == "EXPO2026"
    assert http.get(f"{API}/Event/DEMO/EXPO26").status_code == 404
    reg = http.get(f"{API}/Registration/DEMO/EXPO2026", params={"max_results": 1}).json()["registrations"][0]
    assert reg["eventCode"] == "EXPO2026" and reg["eventId"] == before["eventId"]


def test_sessions_with_ordered_custom_fields(http: httpx.Client) -> None:
    sessions = http.get(f"{API}/Session/DEMO/SUMMIT26", params={"includeList": "tags"}).json()
    assert sessions["completeCollectionSize"] == 4
    s = sessions["sessions"][0]
    assert [f["name"] for f in s["customFields"]] == ["Slides", "Recording", "Room notes"]
    assert s["customFields"][0]["tags"][0]["name"] == "Touchpoint: Related Link"
    upd = http.post(f"{API}/Session/DEMO/SUMMIT26/{s['sessionCode']}", json={"customFields": {"Slides": ""}})
    assert upd.json()["customFields"][0]["value"] == ""
    assert http.delete(f"{API}/Session/DEMO/SUMMIT26/{s['sessionCode']}").json() == {
        "deleted": s["sessionCode"]
    }
    assert http.get(f"{API}/Session/DEMO/SUMMIT26/{s['sessionCode']}").status_code == 404


def _verify(req: dict[str, Any], secret: str) -> bool:
    ts = req["headers"]["x-platform-timestamp"]
    mac = hmac.new(secret.encode(), f"{ts}.{req['body']}".encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(req["headers"]["x-platform-signature"], f"sha256={mac}")


def test_signed_webhooks_for_registration_and_session_changes(
    http: httpx.Client, receiver: httpx.Client, servers: tuple[str, str]
) -> None:
    hook_on(http, servers[1])
    base = f"{API}/Registration/DEMO/SUMMIT26"
    reg = http.post(base, json={"profile": {"email": "hook@example.org"}}).json()
    code = reg["registrationCode"]
    http.post(f"{base}/{code}", json={"profile": {"firstName": "Hook"}})
    http.post(f"{base}/{code}", json={"registrationStatusLabel": "Cancelled"})
    http.post(f"{API}/Session/DEMO/SUMMIT26", json={"name": "New talk", "sessionCode": "S900"})
    http.post(f"{API}/Session/DEMO/SUMMIT26/S900", json={"customFields": {"Slides": "https://x.test/s"}})
    drain(http)
    got = receiver.get("/_sandbox/requests/wait", params={"count": 5, "timeout": 10}).json()["requests"]
    bodies = sorted((json.loads(g["body"]) for g in got), key=lambda b: (b["object"], b["sequence"]))
    assert [(b["type"], b["recordKey"], b["sequence"]) for b in bodies] == [
        ("registration.created", code, 1),
        ("registration.updated", code, 2),
        ("registration.status_changed", code, 3),
        ("session.created", "S900", 1),
        ("session.updated", "S900", 2),
    ]
    assert (
        bodies[2]["previousStatus"] == "New" and bodies[2]["data"]["registrationStatusLabel"] == "Cancelled"
    )
    assert bodies[2]["data"]["tags"]["registrationStatus"][0]["name"] == "Signal: Cancelled"
    assert bodies[4]["data"]["customFields"][0]["value"] == "https://x.test/s"
    for g in got:
        assert _verify(g, "whsec")
        assert not _verify(g, "other-secret")
        assert g["headers"]["x-platform-event-id"] == json.loads(g["body"])["id"]
        assert g["headers"]["x-platform-signature"].startswith("sha256=")
    assert len({g["headers"]["x-platform-event-id"] for g in got}) == 5
    assert (
        platform.sign("whsec", got[0]["headers"]["x-platform-timestamp"], got[0]["body"].encode())
        == got[0]["headers"]["x-platform-signature"]
    )


def test_webhook_retries_non_2xx_then_gives_up(
    http: httpx.Client, receiver: httpx.Client, servers: tuple[str, str]
) -> None:
    hook_on(http, servers[1], max_attempts=3, events=["registration.created"])
    receiver.post("/_sandbox/faults", json={"path": "/hooks", "status": 503, "times": 2})
    http.post(f"{API}/Registration/DEMO/SUMMIT26", json={"profile": {"email": "r1@example.org"}})
    drain(http)
    got = receiver.get("/_sandbox/requests").json()["requests"]
    assert [g["status"] for g in got] == [503, 503, 200]
    assert len({g["headers"]["x-platform-event-id"] for g in got}) == 1
    assert [g["headers"]["x-platform-delivery-attempt"] for g in got] == ["1", "2", "3"]
    log = http.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    assert log[0]["state"] == "delivered" and [a["status"] for a in log[0]["attempts"]] == [503, 503, 200]

    receiver.post("/_sandbox/faults", json={"path": "/hooks", "status": 500})
    http.post(f"{API}/Registration/DEMO/SUMMIT26", json={"profile": {"email": "r2@example.org"}})
    drain(http)
    failed = http.get("/_sandbox/webhooks/deliveries", params={"state": "failed"}).json()["deliveries"]
    assert len(failed) == 1 and len(failed[0]["attempts"]) == 3


def test_fault_knobs_on_platform_endpoints(http: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"path": f"{API}/Registration", "status": 503, "times": 1})
    url = f"{API}/Registration/DEMO/SUMMIT26"
    assert [http.get(url).status_code for _ in range(2)] == [503, 200]


def test_seed_is_deterministic() -> None:
    def snapshot() -> list[Any]:
        app = platform.create_app()
        platform.seed(app, seed=5, events=1, registrations_per_event=30, sessions_per_event=3)
        store = app.state.store
        ev = store.event("DEMO", "SUMMIT26")
        views = [
            store.registration_view(ev, r, {"registration_questions"}) for r in ev.registrations.values()
        ]
        for v in views:
            for k in ("dateCreated", "dateModified", "statusModified"):
                v.pop(k)
        return views + [store.session_view(ev, s, True)["customFields"] for s in ev.sessions.values()]

    assert snapshot() == snapshot()


def test_signature_knobs_for_receiver_rejection_tests(
    http: httpx.Client, receiver: httpx.Client, servers: tuple[str, str]
) -> None:
    hook_on(http, servers[1], break_signature=True, timestamp_skew_s=-600, events=["registration.created"])
    http.post(f"{API}/Registration/DEMO/SUMMIT26", json={"profile": {"email": "k@example.org"}})
    drain(http)
    (got,) = receiver.get("/_sandbox/requests").json()["requests"]
    assert not _verify(got, "whsec")
    assert int(got["headers"]["x-platform-timestamp"]) < got["received_at"] - 500


def test_start_index_as_page_number_and_status_modified_filter() -> None:
    app = platform.create_app(start_index_mode="page", default_max_results=10)
    platform.seed(app, events=1, registrations_per_event=25, sessions_per_event=0)
    with served(app) as s, httpx.Client(base_url=s.url, auth=AUTH) as c:
        url = f"{API}/Registration/DEMO/SUMMIT26"
        pages = [c.get(url, params={"start_index": p}) for p in (1, 2, 3, 4)]
        assert [p.status_code for p in pages] == [200, 200, 200, 404]
        assert [p.json()["startingIndex"] for p in pages[:3]] == [1, 2, 3]
        assert sum(p.json()["size"] for p in pages[:3]) == 25
        newest = max(
            g["statusModified"] for g in c.get(url, params={"max_results": 100}).json()["registrations"]
        )
        code = pages[0].json()["registrations"][0]["registrationCode"]
        same = (
            "Cancelled"
            if pages[0].json()["registrations"][0]["registrationStatusLabel"] != "Cancelled"
            else "New"
        )
        c.post(f"{url}/{code}", json={"registrationStatusLabel": same})
        moved = c.get(url, params={"statusModified_after": newest}).json()["registrations"]
        assert [g["registrationCode"] for g in moved] == [code]


def test_profile_update_shows_in_and_touches_each_registration(http: httpx.Client) -> None:
    reg = http.post(
        f"{API}/Registration/DEMO/SUMMIT26", json={"profile": {"email": "old@example.org", "pin": "PX1"}}
    ).json()
    http.post(
        f"{API}/Registration/DEMO/EXPO26",
        json={"profile": {"pin": "PX1"}},
        params={"profileIdentifier": "PIN"},
    )
    prof = http.get(f"{API}/Profile/DEMO/PX1").json()
    assert [r["eventCode"] for r in prof["registrations"]] == ["SUMMIT26", "EXPO26"]
    http.post(f"{API}/Profile/DEMO/PX1", json={"email": "new@example.org"})
    after = http.get(f"{API}/Registration/DEMO", params={"dateModified_after": reg["dateModified"]}).json()
    assert {g["profile"]["email"] for g in after["registrations"]} == {"new@example.org"}
    assert after["completeCollectionSize"] == 2
    old = http.post(
        f"{API}/Registration/DEMO/SUMMIT26",
        json={"profile": {"email": "old@example.org"}},
        params={"profileIdentifier": "EMAIL"},
    ).json()
    assert old["profile"]["pin"] != "PX1"  # the old email no longer matches the profile
    assert http.get(f"{API}/Profile/DEMO/NOPE").status_code == 404


def test_reconfiguring_webhooks_mid_stream_loses_nothing(
    http: httpx.Client, receiver: httpx.Client, servers: tuple[str, str]
) -> None:
    hook_on(http, servers[1], concurrency=1, events=["registration.created"])
    receiver.post("/_sandbox/faults", json={"path": "/hooks", "action": "delay", "delay_s": 0.02})
    for i in range(6):
        http.post(f"{API}/Registration/DEMO/SUMMIT26", json={"profile": {"email": f"m{i}@example.org"}})
        if i == 2:
            hook_on(http, servers[1], concurrency=3, events=["registration.created"])
    drain(http)
    log = http.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    assert [d["state"] for d in log] == ["delivered"] * 6
    assert receiver.get("/_sandbox/requests").json()["count"] == 6


def test_batched_webhooks_knob_signs_each_body_and_sends_every_event_once(
    http: httpx.Client, receiver: httpx.Client, servers: tuple[str, str]
) -> None:
    hook_on(http, servers[1], batch_size=10, events=["registration.created"])
    regs = [{"profile": {"email": f"batch{i}@example.org"}} for i in range(25)]
    r = http.post(f"{API}/BulkRegistration/DEMO/SUMMIT26", json={"matchBy": "email", "registrations": regs})
    assert r.status_code == 200
    drain(http)
    got = receiver.get("/_sandbox/requests").json()["requests"]
    ids: list[str] = []
    for g in got:
        assert _verify(g, "whsec")
        body = json.loads(g["body"])
        events = body["events"] if "events" in body else [body]
        assert len(events) <= 10
        assert g["headers"].get("x-platform-event-count", "1") == str(len(events))
        assert g["headers"]["x-platform-event-id"] == events[0]["id"]
        ids += [e["id"] for e in events]
    assert len(ids) == 25 and len(set(ids)) == 25
    assert len(got) < 25  # events queued together went together
    log = http.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    assert {d["state"] for d in log} == {"delivered"} and len(log) == 25


def test_a_write_that_changes_nothing_sends_no_webhook(
    http: httpx.Client, receiver: httpx.Client, servers: tuple[str, str]
) -> None:
    # Like a real platform's change webhooks: a change is reported, a write that leaves the
    # record equal is not (and its dateModified stays), however it is written.
    hook_on(http, servers[1])
    base = f"{API}/Registration/DEMO/SUMMIT26"
    body = {"profile": {"email": "same@example.org", "firstName": "Same"}, "registrationStatusLabel": "New"}
    reg = http.post(base, json=body).json()
    code, pin = reg["registrationCode"], reg["profile"]["pin"]
    assert http.post(f"{base}/{code}", json=body).json()["dateModified"] == reg["dateModified"]
    bulk = http.post(f"{API}/BulkRegistration/DEMO/SUMMIT26", json={"registrations": [body]}).json()
    assert bulk["results"][0]["registrationCode"] == code
    http.post(f"{API}/Profile/DEMO/{pin}", json={"firstName": "Same"})
    http.post(f"{API}/Session/DEMO/SUMMIT26", json={"name": "Talk", "sessionCode": "S901"})
    http.post(f"{API}/Session/DEMO/SUMMIT26/S901", json={"name": "Talk"})
    http.post(f"{base}/{code}", json={"profile": {"firstName": "Changed"}})
    drain(http)
    got = receiver.get("/_sandbox/requests/wait", params={"count": 3, "timeout": 10}).json()["requests"]
    kinds = sorted((json.loads(g["body"])["type"], json.loads(g["body"])["sequence"]) for g in got)
    assert kinds == [("registration.created", 1), ("registration.updated", 2), ("session.created", 1)]
    assert http.get("/_sandbox/webhooks/deliveries").json()["count"] == 3
