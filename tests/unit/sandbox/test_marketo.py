"""Contract tests for the Marketo emulator (docs/sandbox-vendors.md), over real HTTP on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import marketo
from sandbox.serving import served

CID, SECRET = "sandbox-marketo-client", "sandbox-marketo-secret"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with served(marketo.create_app()) as s:
        yield s.url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as c:
        c.post("/_sandbox/reset")
        yield c


def _token(http: httpx.Client) -> str:
    r = http.get(
        "/identity/oauth/token",
        params={"grant_type": "client_credentials", "client_id": CID, "client_secret": SECRET},
    )
    assert r.status_code == 200
    return str(r.json()["access_token"])


def _auth(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def _sync(http: httpx.Client, tok: str, records: list[Any], **opts: Any) -> dict[str, Any]:
    r = http.post("/rest/v1/leads.json", json={"input": records, **opts}, headers=_auth(tok))
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def test_identity_returns_same_token_until_it_expires(http: httpx.Client) -> None:
    r = http.get(
        "/identity/oauth/token",
        params={"grant_type": "client_credentials", "client_id": CID, "client_secret": SECRET},
    )
    body = r.json()
    assert body["token_type"] == "bearer" and 3590 <= body["expires_in"] <= 3600
    assert body["scope"] == "api-user@sandbox.example"
    assert ":" in body["access_token"]
    assert _token(http) == body["access_token"]
    http.post("/_sandbox/expire-tokens")
    assert _token(http) != body["access_token"]


def test_identity_bad_secret_is_401_invalid_client(http: httpx.Client) -> None:
    r = http.post(
        "/identity/oauth/token",
        params={"grant_type": "client_credentials", "client_id": CID, "client_secret": "nope"},
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_expired_token_gives_602_once_then_601(http: httpx.Client) -> None:
    tok = _token(http)
    http.post("/_sandbox/expire-tokens")
    codes = []
    for _ in range(3):
        r = http.get(
            "/rest/v1/leads.json",
            params={"filterType": "email", "filterValues": "a@b.co"},
            headers=_auth(tok),
        )
        assert r.status_code == 200 and r.json()["success"] is False
        codes.append(r.json()["errors"][0]["code"])
    assert codes == ["602", "601", "601"]
    assert http.get("/rest/v1/leads.json", headers=_auth("junk:ab")).json()["errors"][0]["code"] == "601"
    counters = http.get("/_sandbox/state").json()["counters"]
    assert counters["602"] == 1 and counters["601"] == 3
    # Auth failures are free calls: they count against neither the quota nor the window.
    assert http.get("/_sandbox/state").json()["calls_today"] == 0


def test_token_ttl_setting_expires_tokens(http: httpx.Client) -> None:
    http.patch("/_sandbox/settings", json={"token_ttl_s": 0.05})
    tok = _token(http)
    time.sleep(0.1)
    r = http.post("/rest/v1/leads.json", json={"input": [{"email": "a@b.co"}]}, headers=_auth(tok))
    assert r.json()["errors"][0]["code"] == "602"


def test_sync_leads_per_record_statuses_in_input_order(http: httpx.Client) -> None:
    tok = _token(http)
    first = _sync(http, tok, [{"email": "ann@example.com", "firstName": "Ann"}])
    assert first["success"] is True and first["result"][0]["status"] == "created"
    ann_id = first["result"][0]["id"]
    body = _sync(
        http,
        tok,
        [
            {"email": "bob@example.com"},
            {"email": "ann@example.com", "firstName": "Annie"},
            {"email": "not-an-email"},
            {"email": "carl@example.com", "shoeSize": 12},
            {"email": "bob@example.com"},
            {"firstName": "NoKey"},
            {"email": "dörte@example.com"},
        ],
    )
    res = body["result"]
    assert [r["status"] for r in res] == [
        "created",
        "updated",
        "skipped",
        "skipped",
        "skipped",
        "skipped",
        "skipped",
    ]
    assert res[1]["id"] == ann_id
    assert [r["reasons"][0]["code"] for r in res[2:]] == ["1003", "1006", "1036", "1003", "1003"]
    assert "shoeSize" in res[3]["reasons"][0]["message"]
    leads = http.get("/_sandbox/state").json()["leads"]
    assert {lead["email"] for lead in leads} == {"ann@example.com", "bob@example.com"}
    assert next(lead for lead in leads if lead["id"] == ann_id)["firstName"] == "Annie"


def test_sync_leads_actions_and_lookup_fields(http: httpx.Client) -> None:
    tok = _token(http)
    _sync(http, tok, [{"email": "a@example.com", "externalKey": "K1"}])
    assert (
        _sync(http, tok, [{"email": "a@example.com"}], action="createOnly")["result"][0]["reasons"][0]["code"]
        == "1005"
    )
    assert (
        _sync(http, tok, [{"email": "z@example.com"}], action="updateOnly")["result"][0]["reasons"][0]["code"]
        == "1004"
    )
    upd = _sync(
        http, tok, [{"externalKey": "K1", "title": "CTO"}], action="updateOnly", lookupField="externalKey"
    )
    assert upd["result"][0]["status"] == "updated"
    by_id = _sync(
        http, tok, [{"id": upd["result"][0]["id"], "city": "Oslo"}], action="updateOnly", lookupField="id"
    )
    assert by_id["result"][0]["status"] == "updated"
    dup = _sync(http, tok, [{"email": "a@example.com"}], action="createDuplicate")
    assert dup["result"][0]["status"] == "created"
    multi = _sync(http, tok, [{"email": "a@example.com", "city": "Rome"}])
    assert multi["result"][0]["reasons"][0]["code"] == "1007"
    bad = _sync(http, tok, [{"email": "x@example.com"}], lookupField="firstName")
    assert bad["success"] is False and bad["errors"][0]["code"] == "1011"
    part = _sync(http, tok, [{"email": "p@example.com"}], partitionName="Secret")
    assert part["result"][0]["reasons"][0]["code"] == "1008"


def test_sync_leads_batch_and_payload_limits(http: httpx.Client) -> None:
    tok = _token(http)
    too_many = _sync(http, tok, [{"email": f"u{i}@example.com"} for i in range(301)])
    assert too_many["success"] is False and too_many["errors"][0]["code"] == "1003"
    assert len(_sync(http, tok, [{"email": f"u{i}@example.com"} for i in range(300)])["result"]) == 300
    big = [{"email": f"u{i}@example.com", "title": "x" * 4000} for i in range(300)]
    r = http.post("/rest/v1/leads.json", json={"input": big}, headers=_auth(tok))
    assert r.status_code == 413
    r = http.get("/rest/v1/leads.json", headers=_auth(tok))
    assert r.json()["errors"][0]["code"] == "605"
    r = http.post(
        "/rest/v1/leads.json", content=b"{nope", headers={**_auth(tok), "content-type": "application/json"}
    )
    assert r.json()["errors"][0]["code"] == "609"
    r = http.get(
        "/rest/v1/leads.json", params={"filterType": "email", "filterValues": "a" * 9000}, headers=_auth(tok)
    )
    assert r.status_code == 414


def test_rate_limit_606_sliding_window(http: httpx.Client) -> None:
    http.patch("/_sandbox/settings", json={"rate_limit": 5, "rate_window_s": 0.5})
    tok = _token(http)
    params = {"filterType": "email", "filterValues": "a@example.com"}
    codes = [http.get("/rest/v1/leads.json", params=params, headers=_auth(tok)).json() for _ in range(7)]
    assert [c["success"] for c in codes] == [True] * 5 + [False] * 2
    assert codes[5]["errors"][0]["code"] == "606"
    time.sleep(0.6)
    assert http.get("/rest/v1/leads.json", params=params, headers=_auth(tok)).json()["success"] is True
    assert http.get("/_sandbox/state").json()["counters"]["606"] == 2


def test_daily_quota_607(http: httpx.Client) -> None:
    http.patch("/_sandbox/settings", json={"daily_quota": 3})
    tok = _token(http)
    params = {"filterType": "email", "filterValues": "a@example.com"}
    bodies = [http.get("/rest/v1/leads.json", params=params, headers=_auth(tok)).json() for _ in range(4)]
    assert [b["success"] for b in bodies] == [True, True, True, False]
    assert bodies[3]["errors"][0]["code"] == "607"
    http.post("/_sandbox/reset-quota")
    assert http.get("/rest/v1/leads.json", params=params, headers=_auth(tok)).json()["success"] is True


def test_concurrency_615_for_the_call_past_the_limit(http: httpx.Client, base_url: str) -> None:
    http.patch("/_sandbox/settings", json={"max_concurrent": 2})
    tok = _token(http)
    http.post("/_sandbox/hold")
    params = {"filterType": "email", "filterValues": "a@example.com"}
    results: list[dict[str, Any]] = []

    def call() -> None:
        with httpx.Client(base_url=base_url, timeout=10) as c:
            results.append(c.get("/rest/v1/leads.json", params=params, headers=_auth(tok)).json())

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for _ in range(500):
        if http.get("/_sandbox/state").json()["held"] == 2:
            break
        time.sleep(0.01)
    third = http.get("/rest/v1/leads.json", params=params, headers=_auth(tok)).json()
    assert third["success"] is False and third["errors"][0]["code"] == "615"
    http.post("/_sandbox/release")
    for t in threads:
        t.join()
    assert [r["success"] for r in results] == [True, True]
    assert http.get("/_sandbox/state").json()["counters"]["615"] == 1


def test_filter_read_pages_to_the_end_with_next_page_token(http: httpx.Client) -> None:
    tok = _token(http)
    emails = [f"p{i}@example.com" for i in range(7)]
    _sync(http, tok, [{"email": e} for e in emails])
    seen: list[str] = []
    params: dict[str, Any] = {"filterType": "email", "filterValues": ",".join(emails), "batchSize": 3}
    pages = 0
    while True:
        body = http.get("/rest/v1/leads.json", params=params, headers=_auth(tok)).json()
        pages += 1
        seen += [r["email"] for r in body["result"]]
        if not body["moreResult"]:
            assert "nextPageToken" not in body
            break
        params["nextPageToken"] = body["nextPageToken"]
    assert seen == emails and pages == 3
    # The same read as POST with _method=GET and a form body (for URIs past 8 KB).
    r = http.post(
        "/rest/v1/leads.json",
        params={"_method": "GET"},
        data={"filterType": "email", "filterValues": ",".join(emails)},
        headers=_auth(tok),
    )
    assert len(r.json()["result"]) == 7
    bad = http.get(
        "/rest/v1/leads.json", params={"filterType": "firstName", "filterValues": "x"}, headers=_auth(tok)
    )
    assert bad.json()["errors"][0]["code"] == "1011"


def test_activity_and_lead_change_reads_with_date_token(http: httpx.Client) -> None:
    tok = _token(http)
    t = http.get(
        "/rest/v1/activities/pagingtoken.json",
        params={"sinceDatetime": "2000-01-01T00:00:00Z"},
        headers=_auth(tok),
    )
    token = t.json()["nextPageToken"]
    _sync(http, tok, [{"email": f"c{i}@example.com"} for i in range(3)])
    _sync(http, tok, [{"email": "c0@example.com", "firstName": "Cee"}])
    new = http.get(
        "/rest/v1/activities.json",
        params={"nextPageToken": token, "activityTypeIds": "12", "batchSize": 2},
        headers=_auth(tok),
    ).json()
    assert len(new["result"]) == 2 and new["moreResult"] is True
    rest = http.get(
        "/rest/v1/activities.json",
        params={"nextPageToken": new["nextPageToken"], "activityTypeIds": "12"},
        headers=_auth(tok),
    ).json()
    assert len(rest["result"]) == 1 and rest["moreResult"] is False
    changes = http.get(
        "/rest/v1/activities/leadchanges.json",
        params={"nextPageToken": token, "fields": "firstName"},
        headers=_auth(tok),
    ).json()
    assert changes["result"][0]["fields"][0] == {"name": "firstName", "newValue": "Cee", "oldValue": None}


def test_program_member_status_upserts_and_only_moves_forward(http: httpx.Client) -> None:
    tok = _token(http)
    ids = [
        r["id"]
        for r in _sync(http, tok, [{"email": "m1@example.com"}, {"email": "m2@example.com"}])["result"]
    ]
    url = "/rest/v1/programs/1001/members/status.json"
    reg = http.post(
        url,
        json={"statusName": "Registered", "input": [{"leadId": i} for i in ids] + [{"leadId": 999}]},
        headers=_auth(tok),
    ).json()
    assert [(r["seq"], r["status"]) for r in reg["result"]] == [
        (0, "created"),
        (1, "created"),
        (2, "skipped"),
    ]
    assert reg["result"][2]["reasons"][0]["code"] == "1004"
    att = http.post(
        url, json={"statusName": "Attended", "input": [{"leadId": ids[0]}]}, headers=_auth(tok)
    ).json()
    assert att["result"][0]["status"] == "updated"
    back = http.post(
        url, json={"statusName": "Registered", "input": [{"leadId": ids[0]}]}, headers=_auth(tok)
    ).json()
    assert back["result"][0]["reasons"][0]["code"] == "1037"
    bad = http.post(
        url, json={"statusName": "Bogus", "input": [{"leadId": ids[0]}]}, headers=_auth(tok)
    ).json()
    assert bad["success"] is False
    assert (
        http.post(
            "/rest/v1/programs/9/members/status.json",
            json={"statusName": "Registered", "input": [{"leadId": 1}]},
            headers=_auth(tok),
        ).json()["success"]
        is False
    )
    page = http.get("/rest/v1/programs/1001/members.json", params={"batchSize": 1}, headers=_auth(tok)).json()
    assert len(page["result"]) == 1 and page["moreResult"] is True
    last = http.get(
        "/rest/v1/programs/1001/members.json",
        params={"batchSize": 1, "nextPageToken": page["nextPageToken"]},
        headers=_auth(tok),
    ).json()
    assert last["moreResult"] is False
    assert {page["result"][0]["statusName"], last["result"][0]["statusName"]} == {"Attended", "Registered"}


def test_smart_campaign_trigger(http: httpx.Client) -> None:
    tok = _token(http)
    lid = _sync(http, tok, [{"email": "t@example.com"}])["result"][0]["id"]
    body = {"input": {"leads": [{"id": lid}], "tokens": [{"name": "{{my.Event}}", "value": "Expo"}]}}
    ok = http.post("/rest/v1/campaigns/2001/trigger.json", json=body, headers=_auth(tok)).json()
    assert ok == {"requestId": ok["requestId"], "success": True, "result": [{"id": 2001}]}
    assert (
        http.post("/rest/v1/campaigns/2002/trigger.json", json=body, headers=_auth(tok)).json()["errors"][0][
            "code"
        ]
        == "1003"
    )
    too_many = {"input": {"leads": [{"id": lid}] * 101}}
    assert (
        http.post("/rest/v1/campaigns/2001/trigger.json", json=too_many, headers=_auth(tok)).json()["success"]
        is False
    )
    triggers = http.get("/_sandbox/state").json()["campaign_triggers"]
    assert triggers == [
        {"campaignId": 2001, "leads": [lid], "ignored": [], "tokens": body["input"]["tokens"]}
    ]
