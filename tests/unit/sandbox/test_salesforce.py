"""Contract tests for the Salesforce emulator (docs/sandbox-vendors.md), over real HTTP on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import salesforce
from sandbox.serving import served

V = "/services/data/v62.0"
UPSERT = f"{V}/composite/sobjects/Contact/Email_Ext__c"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with served(salesforce.create_app()) as s:
        yield s.url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as c:
        c.post("/_sandbox/reset")
        yield c


def _login(http: httpx.Client) -> dict[str, str]:
    r = http.post(
        "/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-salesforce-client",
            "client_secret": "sandbox-salesforce-secret",
        },
    )
    assert r.status_code == 200
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _contact(key: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Contact"}, "Email_Ext__c": key, "LastName": "Doe", **fields}


def test_client_credentials_token_shape_and_failures(http: httpx.Client, base_url: str) -> None:
    r = http.post(
        "/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-salesforce-client",
            "client_secret": "sandbox-salesforce-secret",
        },
    )
    body = r.json()
    assert {
        "access_token",
        "signature",
        "token_format",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
    } <= set(body)
    assert "expires_in" not in body and body["token_type"] == "Bearer" and body["instance_url"] == base_url
    bad = http.post(
        "/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox-salesforce-client",
            "client_secret": "x",
        },
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_client"
    assert (
        http.post("/services/oauth2/token", data={"grant_type": "password"}).json()["error"]
        == "unsupported_grant_type"
    )


def test_expired_session_is_401_invalid_session_id(http: httpx.Client) -> None:
    auth = _login(http)
    assert http.get(f"{V}/query", params={"q": "SELECT Id FROM Contact"}, headers=auth).status_code == 200
    http.post("/_sandbox/expire-tokens")
    r = http.get(f"{V}/query", params={"q": "SELECT Id FROM Contact"}, headers=auth)
    assert r.status_code == 401
    assert r.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert http.get(f"{V}/query", params={"q": "SELECT Id FROM Contact"}).status_code == 401


def test_session_times_out_after_inactivity_setting(http: httpx.Client) -> None:
    http.patch("/_sandbox/settings", json={"session_timeout_s": 0.05})
    auth = _login(http)
    time.sleep(0.1)
    assert http.get(f"{V}/query", params={"q": "SELECT Id FROM Contact"}, headers=auth).status_code == 401


def test_collections_upsert_results_in_input_order(http: httpx.Client) -> None:
    auth = _login(http)
    first = http.patch(
        UPSERT, json={"allOrNone": False, "records": [_contact("a"), _contact("b")]}, headers=auth
    )
    assert first.status_code == 200
    assert [(r["success"], r["created"]) for r in first.json()] == [(True, True), (True, True)]
    assert first.headers["Sforce-Limit-Info"].startswith("api-usage=")
    a_id = first.json()[0]["id"]
    assert len(a_id) == 18 and a_id.startswith("003")
    mixed = http.patch(
        UPSERT,
        json={
            "records": [
                _contact("c"),
                _contact("a", Title="CTO"),
                _contact("d", Email="bad@@x"),
                {"attributes": {"type": "Contact"}, "Email_Ext__c": "e"},
            ]
        },
        headers=auth,
    ).json()
    assert [r["success"] for r in mixed] == [True, True, False, False]
    assert mixed[1] == {"id": a_id, "success": True, "errors": [], "created": False}
    assert mixed[2]["id"] is None and mixed[2]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert mixed[3]["errors"][0] == {
        "statusCode": "REQUIRED_FIELD_MISSING",
        "message": "Required fields are missing: ['LastName']",
        "fields": ["LastName"],
    }
    got = http.get(f"{V}/sobjects/Contact/{a_id}", headers=auth).json()
    assert got["Title"] == "CTO"


def test_all_or_none_rolls_back_every_record(http: httpx.Client) -> None:
    auth = _login(http)
    res = http.patch(
        UPSERT,
        json={"allOrNone": True, "records": [_contact("x"), _contact("y", Email="nope")]},
        headers=auth,
    ).json()
    assert res[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert res[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert http.get("/_sandbox/state").json()["records"].get("Contact", {}) == {}


def test_collection_limits_and_malformed_requests(http: httpx.Client) -> None:
    auth = _login(http)
    too_many = http.patch(UPSERT, json={"records": [_contact(str(i)) for i in range(201)]}, headers=auth)
    assert too_many.status_code == 400 and too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert (
        http.patch(UPSERT, json={"records": [_contact(str(i)) for i in range(200)]}, headers=auth).status_code
        == 200
    )
    wrong_type = {"records": [{"attributes": {"type": "Lead"}, "Email_Ext__c": "q", "LastName": "L"}]}
    assert http.patch(UPSERT, json=wrong_type, headers=auth).status_code == 400
    with_id = {"records": [{**_contact("q"), "Id": "003000000000001AAA"}]}
    assert http.patch(UPSERT, json=with_id, headers=auth).status_code == 400
    unknown = http.patch(UPSERT, json={"records": [_contact("q", Shoe__c=1)]}, headers=auth)
    assert unknown.status_code == 400 and unknown.json()[0]["errorCode"] == "INVALID_FIELD"
    not_ext = http.patch(
        f"{V}/composite/sobjects/Contact/LastName", json={"records": [_contact("q")]}, headers=auth
    )
    assert not_ext.status_code == 404
    old = http.patch(
        "/services/data/v45.0/composite/sobjects/Contact/Email_Ext__c",
        json={"records": [_contact("q")]},
        headers=auth,
    )
    assert old.status_code == 404


def test_duplicate_external_ids_locks_and_duplicate_rules(http: httpx.Client) -> None:
    auth = _login(http)
    dup = http.patch(UPSERT, json={"records": [_contact("z"), _contact("z")]}, headers=auth).json()
    assert [r["errors"][0]["statusCode"] for r in dup] == ["DUPLICATE_EXTERNAL_ID"] * 2
    for _ in range(2):
        http.post("/_sandbox/records/Contact", json={"Email_Ext__c": "twin", "LastName": "T"})
    twin = http.patch(UPSERT, json={"records": [_contact("twin")]}, headers=auth).json()
    assert twin[0]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    http.post("/_sandbox/locked", json={"sobject": "Contact", "values": ["busy"]})
    locked = http.patch(UPSERT, json={"records": [_contact("busy")]}, headers=auth).json()
    assert locked[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    http.post("/_sandbox/unlocked")
    assert http.patch(UPSERT, json={"records": [_contact("busy")]}, headers=auth).json()[0]["success"] is True
    http.patch("/_sandbox/settings", json={"duplicate_rules": {"Contact": "Email"}})
    http.patch(UPSERT, json={"records": [_contact("m1", Email="same@example.com")]}, headers=auth)
    again = http.patch(
        UPSERT, json={"records": [_contact("m2", Email="same@example.com")]}, headers=auth
    ).json()
    assert again[0]["errors"][0]["statusCode"] == "DUPLICATES_DETECTED"


def test_campaign_members(http: httpx.Client) -> None:
    auth = _login(http)
    camp = http.post(f"{V}/sobjects/Campaign", json={"Name": "Expo 2026"}, headers=auth)
    assert camp.status_code == 201
    cid = camp.json()["id"]
    contact = http.patch(UPSERT, json={"records": [_contact("cm")]}, headers=auth).json()[0]["id"]
    url = f"{V}/composite/sobjects/CampaignMember/External_Id__c"

    def member(ext: str, **f: Any) -> dict[str, Any]:
        return {"attributes": {"type": "CampaignMember"}, "External_Id__c": ext, "CampaignId": cid, **f}

    res = http.patch(
        url,
        json={
            "records": [
                member("m1", ContactId=contact, Status="Registered"),
                member("m2", ContactId="003000000000999AAA"),
                member("m3", ContactId=contact, Status="Dancing"),
            ]
        },
        headers=auth,
    ).json()
    assert res[0]["success"] and res[0]["created"]
    assert res[1]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert res[2]["errors"][0]["statusCode"] == "FIELD_INTEGRITY_EXCEPTION"
    upd = http.patch(
        url, json={"records": [member("m1", ContactId=contact, Status="Attended")]}, headers=auth
    ).json()
    assert upd[0]["success"] and upd[0]["created"] is False
    second = http.patch(url, json={"records": [member("m4", ContactId=contact)]}, headers=auth).json()
    assert second[0]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"


def test_daily_limit_403_and_limit_info_header(http: httpx.Client) -> None:
    http.patch("/_sandbox/settings", json={"daily_api_limit": 3})
    auth = _login(http)
    rs = [http.get(f"{V}/query", params={"q": "SELECT Id FROM Contact"}, headers=auth) for _ in range(4)]
    assert [r.status_code for r in rs] == [200, 200, 200, 403]
    assert [r.headers["Sforce-Limit-Info"] for r in rs] == [
        "api-usage=1/3",
        "api-usage=2/3",
        "api-usage=3/3",
        "api-usage=3/3",
    ]
    assert rs[3].json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert "Retry-After" not in rs[3].headers
    assert http.get("/_sandbox/state").json()["counters"]["403_REQUEST_LIMIT_EXCEEDED"] == 1


def test_soql_pages_to_the_end_with_next_records_url(http: httpx.Client) -> None:
    http.patch("/_sandbox/settings", json={"query_batch_size": 200})
    auth = _login(http)
    for chunk in range(3):
        recs = [_contact(f"k{chunk * 200 + i:04d}") for i in range(200)]
        http.patch(UPSERT, json={"records": recs}, headers=auth)
    http.patch(UPSERT, json={"records": [_contact("k9999", Email="last@example.com")]}, headers=auth)
    body = http.get(
        f"{V}/query", params={"q": "SELECT Id, Email_Ext__c FROM Contact ORDER BY Email_Ext__c"}, headers=auth
    ).json()
    assert body["totalSize"] == 601 and body["done"] is False
    keys = [r["Email_Ext__c"] for r in body["records"]]
    while not body["done"]:
        body = http.get(body["nextRecordsUrl"], headers=auth).json()
        keys += [r["Email_Ext__c"] for r in body["records"]]
    assert len(keys) == 601 and keys == sorted(keys) and "nextRecordsUrl" not in body
    one = http.get(
        f"{V}/query",
        params={"q": "SELECT Id, Email FROM Contact WHERE Email = 'last@example.com'"},
        headers=auth,
    ).json()
    assert one["totalSize"] == 1 and one["records"][0]["attributes"]["type"] == "Contact"
    since = http.get(
        f"{V}/query",
        params={"q": "SELECT Id FROM Contact WHERE LastModifiedDate > 2000-01-01T00:00:00Z LIMIT 5"},
        headers=auth,
    ).json()
    assert since["totalSize"] == 5
    bad = http.get(f"{V}/query", params={"q": "SELEC nonsense"}, headers=auth)
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_long_running_concurrency_gives_403_request_limit_exceeded(http: httpx.Client, base_url: str) -> None:
    http.patch("/_sandbox/settings", json={"max_long_running": 1, "long_running_s": 0})
    auth = _login(http)
    http.post("/_sandbox/hold")
    done: list[int] = []

    def slow() -> None:
        with httpx.Client(base_url=base_url, timeout=10) as c:
            done.append(c.get(f"{V}/query", params={"q": "SELECT Id FROM Contact"}, headers=auth).status_code)

    t = threading.Thread(target=slow)
    t.start()
    for _ in range(500):
        if http.get("/_sandbox/state").json()["held"] == 1:
            break
        time.sleep(0.01)
    r = http.get(f"{V}/query", params={"q": "SELECT Id FROM Contact"}, headers=auth)
    assert r.status_code == 403 and r.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    http.post("/_sandbox/release")
    t.join()
    assert done == [200]
