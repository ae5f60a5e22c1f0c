"""Contract tests for the HubSpot emulator (docs/sandbox-vendors.md), over real HTTP on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from sandbox import hubspot
from sandbox.serving import served

PAT = {"Authorization": "Bearer pat-na1-sandbox-0000"}
CLIENT = {"client_id": "sandbox-hubspot-client", "client_secret": "sandbox-hubspot-secret"}
REDIRECT = "http://127.0.0.1/oauth/callback"
UPSERT = "/crm/v3/objects/contacts/batch/upsert"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with served(hubspot.create_app()) as s:
        yield s.url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as c:
        c.post("/_sandbox/reset")
        yield c


def _inputs(*emails: str, **props: Any) -> dict[str, Any]:
    return {"inputs": [{"idProperty": "email", "id": e, "properties": dict(props)} for e in emails]}


def _oauth(http: httpx.Client) -> dict[str, Any]:
    r = http.get(
        "/oauth/authorize", params={"client_id": CLIENT["client_id"], "redirect_uri": REDIRECT, "state": "s1"}
    )
    assert r.status_code == 302
    q = parse_qs(urlparse(r.headers["location"]).query)
    assert q["state"] == ["s1"]
    t = http.post(
        "/oauth/v1/token",
        data={**CLIENT, "grant_type": "authorization_code", "code": q["code"][0], "redirect_uri": REDIRECT},
    )
    assert t.status_code == 200
    body: dict[str, Any] = t.json()
    return body


def test_private_app_token_and_missing_auth(http: httpx.Client) -> None:
    assert http.get("/crm/v3/objects/contacts", headers=PAT).status_code == 200
    r = http.get("/crm/v3/objects/contacts", headers={"Authorization": "Bearer pat-wrong"})
    assert r.status_code == 401 and r.json()["category"] == "INVALID_AUTHENTICATION"
    assert r.json()["status"] == "error" and r.json()["correlationId"]


def test_oauth_code_refresh_and_expiry(http: httpx.Client) -> None:
    tok = _oauth(http)
    assert tok["token_type"] == "bearer" and tok["expires_in"] == 1800 and tok["refresh_token"]
    bearer = {"Authorization": f"Bearer {tok['access_token']}"}
    assert http.get("/crm/v3/objects/contacts", headers=bearer).status_code == 200
    http.post("/_sandbox/expire-tokens")
    r = http.get("/crm/v3/objects/contacts", headers=bearer)
    assert r.status_code == 401 and r.json()["category"] == "EXPIRED_AUTHENTICATION"
    new = http.post(
        "/oauth/v3/token",
        data={**CLIENT, "grant_type": "refresh_token", "refresh_token": tok["refresh_token"]},
    )
    assert new.status_code == 200
    assert (
        http.get(
            "/crm/v3/objects/contacts", headers={"Authorization": f"Bearer {new.json()['access_token']}"}
        ).status_code
        == 200
    )
    bad = http.post(
        "/oauth/v1/token", data={**CLIENT, "grant_type": "refresh_token", "refresh_token": "nope"}
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_grant" and bad.json()["status"] == "BAD_REFRESH_TOKEN"
    wrong = http.post(
        "/oauth/v1/token", data={"client_id": "x", "client_secret": "y", "grant_type": "refresh_token"}
    )
    assert wrong.json()["error"] == "invalid_client"


def test_short_ttl_setting_expires_oauth_tokens(http: httpx.Client) -> None:
    http.patch("/_sandbox/settings", json={"access_token_ttl_s": 0.05})
    tok = _oauth(http)
    time.sleep(0.1)
    r = http.get("/crm/v3/objects/contacts", headers={"Authorization": f"Bearer {tok['access_token']}"})
    assert r.json()["category"] == "EXPIRED_AUTHENTICATION"


def test_batch_upsert_creates_then_updates_with_new_flag(http: httpx.Client) -> None:
    first = http.post(UPSERT, json=_inputs("a@example.com", "b@example.com", firstname="X"), headers=PAT)
    assert first.status_code == 200
    body = first.json()
    assert body["status"] == "COMPLETE" and "errors" not in body
    assert {r["properties"]["email"]: r["new"] for r in body["results"]} == {
        "a@example.com": True,
        "b@example.com": True,
    }
    again = http.post(
        UPSERT,
        json={
            "inputs": [
                {
                    "idProperty": "email",
                    "id": "A@example.com",
                    "properties": {"firstname": "Y"},
                    "objectWriteTraceId": "t1",
                }
            ]
        },
        headers=PAT,
    ).json()
    (res,) = again["results"]
    assert res["new"] is False and res["properties"]["firstname"] == "Y" and res["objectWriteTraceId"] == "t1"
    assert {"id", "properties", "createdAt", "updatedAt", "archived", "new"} <= set(res)
    by_code = http.post(
        UPSERT,
        json={
            "inputs": [
                {"idProperty": "registration_code", "id": "R-1", "properties": {"email": "c@example.com"}}
            ]
        },
        headers=PAT,
    ).json()
    assert by_code["results"][0]["new"] is True
    assert len(http.get("/_sandbox/state").json()["contacts"]) == 3


def test_batch_upsert_per_input_errors(http: httpx.Client) -> None:
    payload = {
        "inputs": [
            {"idProperty": "email", "id": "ok@example.com", "properties": {}},
            {"idProperty": "email", "id": "not-an-email", "properties": {}},
            {
                "idProperty": "email",
                "id": "p@example.com",
                "properties": {"shoe_size": "12"},
                "objectWriteTraceId": "t9",
            },
        ]
    }
    r = http.post(UPSERT, json=payload, headers=PAT)
    assert r.status_code == 207
    body = r.json()
    assert body["numErrors"] == 2 and len(body["results"]) == 1
    codes = {e["context"]["ids"][0]: e["errors"][0]["code"] for e in body["errors"]}
    assert codes == {"not-an-email": "INVALID_EMAIL", "p@example.com": "PROPERTY_DOESNT_EXIST"}
    assert all(e["category"] == "VALIDATION_ERROR" and e["status"] == "error" for e in body["errors"])
    trace = next(e for e in body["errors"] if e["context"]["ids"] == ["p@example.com"])
    assert trace["context"]["objectWriteTraceId"] == ["t9"]


def test_batch_limits_and_request_level_validation(http: httpx.Client) -> None:
    too_many = http.post(UPSERT, json=_inputs(*[f"u{i}@example.com" for i in range(101)]), headers=PAT)
    assert too_many.status_code == 400 and too_many.json()["category"] == "VALIDATION_ERROR"
    assert (
        http.post(UPSERT, json=_inputs(*[f"u{i}@example.com" for i in range(100)]), headers=PAT).status_code
        == 200
    )
    not_unique = {"inputs": [{"idProperty": "firstname", "id": "Ann", "properties": {}}]}
    assert http.post(UPSERT, json=not_unique, headers=PAT).status_code == 400
    dup = http.post(UPSERT, json=_inputs("d@example.com", "D@example.com"), headers=PAT)
    assert dup.status_code == 400 and "Duplicate" in dup.json()["message"]


def test_ten_secondly_429_with_headers(http: httpx.Client) -> None:
    http.patch("/_sandbox/settings", json={"ten_secondly_limit": 3, "burst_window_s": 0.5})
    ok = http.get("/crm/v3/objects/contacts", headers=PAT)
    assert ok.headers["X-HubSpot-RateLimit-Max"] == "3"
    assert ok.headers["X-HubSpot-RateLimit-Remaining"] == "2"
    assert ok.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "500"
    assert "X-HubSpot-RateLimit-Daily-Remaining" in ok.headers
    rs = [http.get("/crm/v3/objects/contacts", headers=PAT) for _ in range(3)]
    assert [r.status_code for r in rs] == [200, 200, 429]
    body = rs[2].json()
    assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["category"] == "RATE_LIMITS"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert rs[2].headers["X-HubSpot-RateLimit-Remaining"] == "0"
    time.sleep(0.6)
    assert http.get("/crm/v3/objects/contacts", headers=PAT).status_code == 200


def test_daily_429(http: httpx.Client) -> None:
    http.patch("/_sandbox/settings", json={"daily_limit": 2})
    rs = [http.get("/crm/v3/objects/contacts", headers=PAT) for _ in range(3)]
    assert [r.status_code for r in rs] == [200, 200, 429]
    assert rs[2].json()["policyName"] == "DAILY"
    assert rs[2].headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    assert http.get("/_sandbox/state").json()["counters"]["429_DAILY"] == 1


def test_list_pages_to_the_end_with_after(http: httpx.Client) -> None:
    emails = [f"l{i}@example.com" for i in range(25)]
    http.post(UPSERT, json=_inputs(*emails), headers=PAT)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 10, "properties": "email"}
    pages = 0
    while True:
        body = http.get("/crm/v3/objects/contacts", params=params, headers=PAT).json()
        pages += 1
        seen += [r["properties"]["email"] for r in body["results"]]
        nxt = body.get("paging", {}).get("next")
        if not nxt:
            break
        assert "after=" in nxt["link"]
        params["after"] = nxt["after"]
    assert pages == 3 and sorted(seen) == sorted(emails)
    assert http.get("/crm/v3/objects/contacts", params={"limit": 101}, headers=PAT).status_code == 400
    one = http.get("/crm/v3/objects/contacts/l3@example.com", params={"idProperty": "email"}, headers=PAT)
    assert one.json()["properties"]["email"] == "l3@example.com"
    assert http.get("/crm/v3/objects/contacts/999999", headers=PAT).json()["category"] == "OBJECT_NOT_FOUND"


def test_results_are_not_promised_in_input_order(http: httpx.Client) -> None:
    emails = [f"o{i:02d}@example.com" for i in range(20)]
    shuffled = http.post(UPSERT, json=_inputs(*emails), headers=PAT).json()["results"]
    assert sorted(r["properties"]["email"] for r in shuffled) == emails
    assert [r["properties"]["email"] for r in shuffled] != emails
    http.patch("/_sandbox/settings", json={"shuffle_results": False})
    ordered = http.post(UPSERT, json=_inputs(*emails), headers=PAT).json()["results"]
    assert [r["properties"]["email"] for r in ordered] == emails
