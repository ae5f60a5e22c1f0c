"""Contract tests for the Eloqua emulator (docs/sandbox-vendors.md), over real HTTP on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from sandbox import eloqua
from sandbox.serving import served

BASIC = httpx.BasicAuth("SandboxCo\\api.user", "sandbox-password")
APP = httpx.BasicAuth("sandbox-eloqua-app", "sandbox-eloqua-secret")
REDIRECT = "http://127.0.0.1/cb"
REST = "/API/REST/1.0"
BULK = "/API/Bulk/2.0"
EMAIL = "{{Contact.Field(C_EmailAddress)}}"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with served(eloqua.create_app()) as s:
        yield s.url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10, auth=BASIC) as c:
        c.post("/_sandbox/reset")
        yield c


def _oauth(http: httpx.Client) -> dict[str, Any]:
    r = http.get(
        "/auth/oauth2/authorize",
        params={
            "client_id": "sandbox-eloqua-app",
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "state": "x",
        },
    )
    assert r.status_code == 302
    code = parse_qs(urlparse(r.headers["location"]).query)["code"][0]
    t = http.post(
        "/auth/oauth2/token",
        json={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=APP,
    )
    assert t.status_code == 200
    body: dict[str, Any] = t.json()
    return body


def _bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def _import(http: httpx.Client, ident: str = "Email", **extra: Any) -> str:
    fields = {
        "Email": EMAIL,
        "First": "{{Contact.Field(C_FirstName)}}",
        "Code": "{{Contact.Field(C_Registration_Code1)}}",
    }
    r = http.post(
        f"{BULK}/contacts/imports",
        json={"name": "t", "fields": fields, "identifierFieldName": ident, **extra},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["uri"])


def _run_sync(http: httpx.Client, uri: str) -> tuple[str, list[str]]:
    s = http.post(f"{BULK}/syncs", json={"syncedInstanceUri": uri})
    assert s.status_code == 201 and s.json()["status"] == "pending"
    statuses = []
    while True:
        body = http.get(f"{BULK}{s.json()['uri']}").json()
        statuses.append(body["status"])
        if body["status"] not in ("pending", "active"):
            return str(s.json()["uri"]), statuses


def test_id_discovery_with_basic_and_failure_body(http: httpx.Client, base_url: str) -> None:
    body = http.get("/id").json()
    assert body["site"] == {"id": 1234, "name": "SandboxCo"}
    assert body["urls"]["base"] == base_url
    assert body["urls"]["apis"]["rest"]["bulk"] == f"{base_url}/API/Bulk/{{version}}/"
    bad = http.get("/id", auth=httpx.BasicAuth("SandboxCo\\api.user", "wrong"))
    assert bad.status_code == 200 and bad.json() == "Not authenticated."
    assert (
        http.get(
            f"{REST}/data/contacts", auth=httpx.BasicAuth("Other\\api.user", "sandbox-password")
        ).status_code
        == 401
    )


def test_oauth_code_refresh_expiry_and_password_grant(http: httpx.Client) -> None:
    http.patch("/_sandbox/settings", json={"authorize_min_interval_s": 0})
    tok = _oauth(http)
    assert tok["token_type"] == "bearer" and tok["expires_in"] == 28800 and tok["refresh_token"]
    assert (
        http.get("/id", headers=_bearer(tok["access_token"]), auth=None).json()["site"]["name"] == "SandboxCo"
    )
    http.post("/_sandbox/expire-tokens")
    assert (
        http.get(f"{REST}/data/contacts", headers=_bearer(tok["access_token"]), auth=None).status_code == 401
    )
    new = http.post(
        "/auth/oauth2/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": tok["refresh_token"],
            "scope": "full",
            "redirect_uri": REDIRECT,
        },
        auth=APP,
    )
    assert new.status_code == 200
    assert (
        http.get(f"{REST}/data/contacts", headers=_bearer(new.json()["access_token"]), auth=None).status_code
        == 200
    )
    reused = http.post(
        "/auth/oauth2/token",
        json={"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]},
        auth=APP,
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    pw = http.post(
        "/auth/oauth2/token",
        json={
            "grant_type": "password",
            "scope": "full",
            "username": "SandboxCo\\api.user",
            "password": "sandbox-password",
        },
        auth=APP,
    )
    assert pw.status_code == 200
    bad_client = http.post(
        "/auth/oauth2/token", json={"grant_type": "password"}, auth=httpx.BasicAuth("x", "y")
    )
    assert bad_client.status_code == 401


def test_authorize_is_throttled_to_one_per_interval(http: httpx.Client) -> None:
    params = {"client_id": "sandbox-eloqua-app", "redirect_uri": REDIRECT, "response_type": "code"}
    assert http.get("/auth/oauth2/authorize", params=params).status_code == 302
    assert http.get("/auth/oauth2/authorize", params=params).status_code == 429


def test_short_access_token_ttl(http: httpx.Client) -> None:
    http.patch("/_sandbox/settings", json={"access_token_ttl_s": 0.05})
    tok = _oauth(http)
    time.sleep(0.1)
    assert (
        http.get(f"{REST}/data/contacts", headers=_bearer(tok["access_token"]), auth=None).status_code == 401
    )


def test_rest_contact_create_update_and_validation(http: httpx.Client) -> None:
    c = http.post(
        f"{REST}/data/contact",
        json={
            "emailAddress": "a@example.com",
            "firstName": "Ann",
            "fieldValues": [{"type": "FieldValue", "id": "100201", "value": "R1"}],
        },
    )
    assert c.status_code == 201
    cid = c.json()["id"]
    assert c.json()["type"] == "Contact" and isinstance(cid, str)
    upd = http.put(f"{REST}/data/contact/{cid}", json={"id": cid, "firstName": "Anne"})
    assert upd.json()["firstName"] == "Anne" and upd.json()["emailAddress"] == "a@example.com"
    bad = http.post(f"{REST}/data/contact", json={"emailAddress": "nope"})
    assert bad.status_code == 400
    assert bad.json()[0]["type"] == "ObjectValidationError" and bad.json()[0]["property"] == "emailAddress"
    dup = http.post(f"{REST}/data/contact", json={"emailAddress": "A@example.com"})
    assert dup.status_code == 409 and dup.json()[0]["requirement"]["type"] == "UniquenessRequirement"
    assert http.get(f"{REST}/data/contact/999").status_code == 404


def test_rest_contacts_page_count_and_last_updated_filter(http: httpx.Client) -> None:
    for i in range(5):
        http.post(f"{REST}/data/contact", json={"emailAddress": f"p{i}@example.com"})
    seen: list[str] = []
    page = 1
    while True:
        body = http.get("/api/rest/1.0/data/contacts", params={"page": page, "count": 2}).json()
        assert body["total"] == 5 and body["pageSize"] == 2
        seen += [e["emailAddress"] for e in body["elements"]]
        if page * 2 >= body["total"]:
            break
        page += 1
    assert seen == [f"p{i}@example.com" for i in range(5)]
    too_big = http.get(f"{REST}/data/contacts", params={"count": 1001})
    assert too_big.status_code == 400 and too_big.json()["type"] == "EndpointParameterError"
    assert too_big.json()["parameter"] == "count"
    future = int(time.time()) + 3600
    assert http.get(f"{REST}/data/contacts", params={"lastUpdatedAt": future}).json()["total"] == 0
    assert http.get(f"{REST}/data/contacts", params={"lastUpdatedAt": 0}).json()["total"] == 5
    assert (
        http.get(f"{REST}/data/contacts", params={"search": "lastUpdatedAt>'2000-01-01T00:00:00Z'"}).json()[
            "total"
        ]
        == 5
    )
    assert http.get(f"{REST}/data/contacts", params={"search": "emailAddress='p3@*'"}).json()["total"] == 1


def test_contact_list_membership(http: httpx.Client) -> None:
    ids = [
        http.post(f"{REST}/data/contact", json={"emailAddress": f"m{i}@example.com"}).json()["id"]
        for i in range(3)
    ]
    lst = http.post(f"{REST}/assets/contact/list", json={"name": "Attendees"}).json()
    r = http.put(
        f"{REST}/assets/contact/list/{lst['id']}", json={"id": lst["id"], "membershipAdditions": ids}
    )
    assert r.json()["count"] == 3
    r = http.put(
        f"{REST}/assets/contact/list/{lst['id']}", json={"id": lst["id"], "membershipDeletions": [ids[0]]}
    )
    assert r.json()["count"] == 2
    members = http.get(f"/api/REST/2.0/data/contacts/list/{lst['id']}").json()
    assert [e["id"] for e in members["elements"]] == ids[1:]
    bad = http.put(f"{REST}/assets/contact/list/{lst['id']}", json={"membershipAdditions": ["424242"]})
    assert bad.status_code == 400


def test_external_activity_and_form_submission(http: httpx.Client) -> None:
    cid = http.post(f"{REST}/data/contact", json={"emailAddress": "x@example.com"}).json()["id"]
    act = {
        "type": "Activity",
        "contactId": cid,
        "campaignId": "7",
        "assetType": "Event Session",
        "assetName": "Keynote",
        "activityType": "Attended",
    }
    r = http.post("/api/REST/2.0/data/activity", json=act)
    assert r.status_code == 201 and r.json()["id"]
    assert http.get(f"/api/REST/2.0/data/activity/{r.json()['id']}").json()["assetName"] == "Keynote"
    assert http.post("/api/REST/2.0/data/activity", json={**act, "activityType": "Danced"}).status_code == 400
    assert http.post("/api/REST/2.0/data/activity", json={**act, "contactId": "999"}).status_code == 400
    form = http.get("/api/REST/2.0/assets/form/1").json()
    assert [e["htmlName"] for e in form["elements"]] == ["emailAddress", "firstName", "lastName"]
    sub = http.post(
        "/api/REST/2.0/data/form/1",
        json={
            "type": "FormData",
            "fieldValues": [
                {"type": "FieldValue", "id": "1", "value": "new@example.com"},
                {"type": "FieldValue", "id": "2", "value": "Nia"},
            ],
        },
    )
    assert sub.status_code == 201
    contacts = http.get("/_sandbox/state").json()["contacts"]
    assert any(c["emailAddress"] == "new@example.com" and c["firstName"] == "Nia" for c in contacts)
    missing = http.post("/api/REST/2.0/data/form/1", json={"fieldValues": [{"id": "2", "value": "x"}]})
    assert missing.status_code == 400 and missing.json()[0]["property"] == "emailAddress"
    assert (
        http.post(
            "/api/REST/2.0/data/form/1", json={"fieldValues": [{"id": "1", "value": "bad"}]}
        ).status_code
        == 400
    )


def test_bulk_import_sync_success_then_warning_with_rejects_and_logs(http: httpx.Client) -> None:
    uri = _import(http)
    r = http.post(
        f"{BULK}{uri}/data",
        json=[{"Email": "b1@example.com", "First": "B", "Code": "R1"}, {"Email": "b2@example.com"}],
    )
    assert r.status_code == 204
    sync_uri, statuses = _run_sync(http, uri)
    assert statuses == ["active", "success"]
    rows = [
        {"Email": "b1@example.com", "First": "Bee"},
        {"Email": "not-an-email"},
        {"Email": "b3@example.com"},
        {"Email": "B3@example.com"},
        {"First": "NoEmail"},
        {"Email": {"nested": 1}},
    ]
    http.post(f"{BULK}{uri}/data", json=rows)
    sync_uri, statuses = _run_sync(http, uri)
    assert statuses[-1] == "warning"
    rejects = http.get(f"{BULK}{sync_uri}/rejects").json()
    assert rejects["totalResults"] == 4 and rejects["hasMore"] is False
    assert [(x["recordIndex"], x["statusCode"]) for x in rejects["items"]] == [
        (2, "ELQ-00002"),
        (4, "ELQ-00011"),
        (5, "ELQ-00061"),
        (6, "ELQ-00032"),
    ]
    assert rejects["items"][0]["invalidFields"] == ["Email"]
    page = http.get(f"{BULK}{sync_uri}/rejects", params={"limit": 3, "offset": 0}).json()
    assert page["count"] == 3 and page["hasMore"] is True
    logs = {x["statusCode"]: x["count"] for x in http.get(f"{BULK}{sync_uri}/logs").json()["items"]}
    assert (
        logs["ELQ-00001"] == 6
        and logs["ELQ-00004"] == 1
        and logs["ELQ-00022"] == 1
        and logs["ELQ-00060"] == 4
    )
    contacts = {c["emailAddress"]: c for c in http.get("/_sandbox/state").json()["contacts"]}
    assert contacts["b1@example.com"]["firstName"] == "Bee"
    assert {"type": "FieldValue", "id": "100201", "value": "R1"} in contacts["b1@example.com"]["fieldValues"]


def test_bulk_sync_error_when_every_row_rejected_and_spelling_knob(http: httpx.Client) -> None:
    uri = _import(http)
    http.post(f"{BULK}{uri}/data", json=[{"Email": "bad"}])
    assert _run_sync(http, uri)[1][-1] == "error"
    http.patch("/_sandbox/settings", json={"error_status": "errored", "sync_pending_polls": 1})
    http.post(f"{BULK}{uri}/data", json=[{"Email": "bad"}])
    assert _run_sync(http, uri)[1] == ["pending", "active", "errored"]


def test_bulk_definition_validation_and_limits(http: httpx.Client) -> None:
    bad_ident = http.post(
        f"{BULK}/contacts/imports",
        json={"name": "x", "fields": {"Email": EMAIL}, "identifierFieldName": "Nope"},
    )
    assert bad_ident.status_code == 400 and "ELQ-00112" in bad_ident.json()["failures"][0]["constraint"]
    bad_field = http.post(
        f"{BULK}/contacts/imports",
        json={"name": "x", "fields": {"E": "{{Contact.Field(C_Bogus)}}"}, "identifierFieldName": "E"},
    )
    assert bad_field.status_code == 400
    many = {f"f{i}": EMAIL for i in range(101)}
    assert (
        http.post(
            f"{BULK}/contacts/imports", json={"name": "x", "fields": many, "identifierFieldName": "f0"}
        ).status_code
        == 400
    )
    http.patch("/_sandbox/settings", json={"max_import_post_bytes": 100, "max_data_posts_per_sync": 2})
    uri = _import(http)
    assert (
        http.post(f"{BULK}{uri}/data", json=[{"Email": f"z{i}@example.com"} for i in range(10)]).status_code
        == 404
    )
    assert http.post(f"{BULK}{uri}/data", json=[{"Email": "a@example.com"}]).status_code == 204
    assert http.post(f"{BULK}{uri}/data", json=[{"Email": "b@example.com"}]).status_code == 204
    assert http.post(f"{BULK}{uri}/data", json=[{"Email": "c@example.com"}]).status_code == 400
    http.patch("/_sandbox/settings", json={"max_import_post_bytes": 1_000_000, "staging_capacity_bytes": 10})
    uri2 = _import(http)
    assert http.post(f"{BULK}{uri2}/data", json=[{"Email": "d@example.com"}]).status_code == 413


def test_bulk_sync_triggered_on_import_csv_and_active_sync_conflict(http: httpx.Client) -> None:
    uri = _import(http, isSyncTriggeredOnImport=True)
    r = http.post(
        f"{BULK}{uri}/data", content=b"Email,First\nc1@example.com,Cy\n", headers={"content-type": "text/csv"}
    )
    assert r.status_code == 201 and r.json()["status"] == "pending"
    assert http.post(f"{BULK}{uri}/data", json=[{"Email": "c2@example.com"}]).status_code == 409
    assert http.post(f"{BULK}/syncs", json={"syncedInstanceUri": uri}).status_code == 409
    while http.get(f"{BULK}{r.json()['uri']}").json()["status"] in ("pending", "active"):
        pass
    assert any(c["emailAddress"] == "c1@example.com" for c in http.get("/_sandbox/state").json()["contacts"])


def test_bulk_update_rules_and_custom_identifier(http: httpx.Client) -> None:
    uri = _import(http, ident="Code", updateRule="ifNewIsNotNull")
    http.post(f"{BULK}{uri}/data", json=[{"Code": "K1", "Email": "k@example.com", "First": "Kay"}])
    _run_sync(http, uri)
    http.post(f"{BULK}{uri}/data", json=[{"Code": "K1", "First": None}, {"Code": "K2"}])
    sync_uri, statuses = _run_sync(http, uri)
    assert statuses[-1] == "warning"
    assert http.get(f"{BULK}{sync_uri}/rejects").json()["items"][0]["statusCode"] == "ELQ-00061"
    contacts = http.get("/_sandbox/state").json()["contacts"]
    assert contacts[0]["firstName"] == "Kay"


def test_429_and_503_signals(http: httpx.Client) -> None:
    http.patch("/_sandbox/settings", json={"rate_limit": 2, "rate_window_s": 0.5})
    codes = [http.get(f"{REST}/data/contacts").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    time.sleep(0.6)
    assert http.get(f"{REST}/data/contacts").status_code == 200
    http.patch("/_sandbox/settings", json={"unavailable": True, "rate_limit": None})
    assert http.get(f"{BULK}/syncs").status_code == 503
    counters = http.get("/_sandbox/state").json()["counters"]
    assert counters["429"] == 1 and counters["503"] == 1


def test_unknown_settings_are_named() -> None:
    with pytest.raises(TypeError, match="sync_polls"):
        eloqua.create_app(sync_polls=3)


def test_clear_staged_data(http: httpx.Client) -> None:
    uri = _import(http)
    http.post(f"{BULK}{uri}/data", json=[{"Email": "s@example.com"}])
    assert http.delete(f"{BULK}{uri}/data").status_code == 204
    sync_uri, statuses = _run_sync(http, uri)
    assert statuses[-1] == "success"
    logs = {x["statusCode"]: x["count"] for x in http.get(f"{BULK}{sync_uri}/logs").json()["items"]}
    assert logs == {"ELQ-00001": 0}


def test_fault_rules_match_api_paths_in_lower_case(http: httpx.Client) -> None:
    http.post(
        "/_sandbox/faults",
        json={
            "path": "/api/bulk/2.0/syncs",
            "status": 500,
            "body": {"error": "x", "errorSeverity": 3},
            "headers": {"Retry-After": "120"},
            "times": 1,
        },
    )
    r = http.get(f"{BULK}/syncs")
    assert r.status_code == 500 and r.headers["Retry-After"] == "120"
    assert http.get(f"{BULK}/syncs").status_code == 200
    http.post("/_sandbox/faults", json={"path": "/api/", "status": 503})
    http.post("/_sandbox/reset")
    assert http.get("/_sandbox/faults").json() == []


def test_fault_rules_match_paths_as_eloqua_spells_them(http: httpx.Client) -> None:
    # Eloqua's docs write /API/REST/…; a rule spelt so must fire on any spelling of the path.
    http.post("/_sandbox/faults", json={"path": f"{REST}/data/contact", "status": 503, "times": 2})
    assert http.get(f"{REST}/data/contacts").status_code == 503
    assert http.get("/api/rest/1.0/data/contacts").status_code == 503
    assert http.get(f"{REST}/data/contacts").status_code == 200
    assert [r["fired"] for r in http.get("/_sandbox/faults").json()] == [2]
