from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox import webhook
from sandbox.serving import served


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with served(webhook.create_app()) as s, httpx.Client(base_url=s.url) as client:
        yield client


@pytest.fixture(autouse=True)
def _reset(http: httpx.Client) -> None:
    http.post("/_sandbox/reset")


def test_records_method_path_headers_body_and_status(http: httpx.Client) -> None:
    r = http.post("/hooks/a?x=1", json={"email": "a@b.c"}, headers={"X-Custom": "v"})
    assert r.status_code == 200 and r.json() == {"ok": True}
    http.put("/other", content=b"not json")
    got = http.get("/_sandbox/requests").json()
    assert got["count"] == 2
    first, second = got["requests"]
    assert (first["method"], first["path"], first["query"]) == ("POST", "/hooks/a", "x=1")
    assert first["headers"]["x-custom"] == "v"
    assert first["json"] == {"email": "a@b.c"} and first["status"] == 200
    assert second["body"] == "not json" and second["json"] is None
    assert first["received_at"] <= second["received_at"]
    assert http.get("/_sandbox/requests", params={"since": 1}).json()["count"] == 1
    assert http.delete("/_sandbox/requests").json() == {"cleared": 2}
    assert http.get("/_sandbox/requests").json()["count"] == 0


@pytest.mark.parametrize(
    ("auth", "good", "bad"),
    [
        (
            {"kind": "basic", "username": "u", "password": "p"},
            {"auth": ("u", "p")},
            {"auth": ("u", "wrong")},
        ),
        ({"kind": "bearer", "token": "t0k"}, {"headers": {"Authorization": "Bearer t0k"}}, {}),
        (
            {"kind": "api_key", "api_key": "k1", "name": "X-Key"},
            {"headers": {"X-Key": "k1"}},
            {"headers": {"X-Key": "k2"}},
        ),
        (
            {"kind": "api_key", "api_key": "k1", "name": "key", "location": "query"},
            {"params": {"key": "k1"}},
            {"params": {"key": "nope"}},
        ),
    ],
)
def test_auth_kinds_accept_and_reject(http: httpx.Client, auth: dict, good: dict, bad: dict) -> None:
    http.put("/_sandbox/config", json={"auth": auth})
    assert http.post("/in", json={}, **good).status_code == 200
    denied = http.post("/in", json={}, **bad)
    assert denied.status_code == 401
    assert denied.json()["error"] == "unauthorized"
    if auth["kind"] == "basic":
        assert denied.headers["www-authenticate"].startswith("Basic")
    # refused attempts are recorded too, with the status answered
    assert [r["status"] for r in http.get("/_sandbox/requests").json()["requests"]] == [200, 401]


def test_configured_answer_and_per_record_rejections(http: httpx.Client) -> None:
    http.put(
        "/_sandbox/config",
        json={
            "answer": {"status": 202, "body": {"accepted": True}},
            "reject": [{"field": "profile.email", "equals": "bad@x.com", "status": 422, "error": "blocked"}],
        },
    )
    ok = http.post("/in", json={"profile": {"email": "ok@x.com"}})
    assert (ok.status_code, ok.json()) == (202, {"accepted": True})
    single = http.post("/in", json={"profile": {"email": "bad@x.com"}})
    assert single.status_code == 422 and single.json()["error"] == "blocked"
    batch = http.post("/in", json=[{"profile": {"email": "ok@x.com"}}, {"profile": {"email": "bad@x.com"}}])
    assert batch.status_code == 207
    assert batch.json()["results"] == [
        {"index": 0, "status": "ok"},
        {"index": 1, "status": "error", "code": 422, "error": "blocked", "field": "profile.email"},
    ]


def test_batch_under_records_path(http: httpx.Client) -> None:
    http.put(
        "/_sandbox/config",
        json={"records_path": "data.items", "reject": [{"field": "id", "equals": 2}]},
    )
    r = http.post("/in", json={"data": {"items": [{"id": 1}, {"id": 2}, {"id": 3}]}})
    assert r.status_code == 207
    assert [x["status"] for x in r.json()["results"]] == ["ok", "error", "ok"]


def test_fault_knobs_answer_and_are_recorded(http: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"path": "/in", "status": 503, "times": 2})
    assert [http.post("/in", json={"n": i}).status_code for i in range(3)] == [503, 503, 200]
    assert [r["status"] for r in http.get("/_sandbox/requests").json()["requests"]] == [503, 503, 200]


def test_wait_for_count(http: httpx.Client) -> None:
    http.post("/in", json={})
    got = http.get("/_sandbox/requests/wait", params={"count": 1, "timeout": 5}).json()
    assert got["complete"] and got["count"] == 1
    missing = http.get("/_sandbox/requests/wait", params={"count": 5, "timeout": 0.05}).json()
    assert not missing["complete"]


def test_oauth2_client_credentials(http: httpx.Client) -> None:
    http.put(
        "/_sandbox/config",
        json={"auth": {"kind": "oauth2", "client_id": "cid", "client_secret": "cs", "token_ttl_s": 60}},
    )
    form = {"grant_type": "client_credentials"}
    assert http.post("/oauth/token", data=form, auth=("cid", "bad")).status_code == 401
    assert http.post("/oauth/token", data={"grant_type": "password"}, auth=("cid", "cs")).status_code == 400
    basic = http.post("/oauth/token", data=form, auth=("cid", "cs")).json()
    posted = http.post("/oauth/token", data={**form, "client_id": "cid", "client_secret": "cs"}).json()
    assert basic["token_type"] == "Bearer" and basic["expires_in"] == 60
    for tok in (basic["access_token"], posted["access_token"]):
        assert http.post("/in", json={}, headers={"Authorization": f"Bearer {tok}"}).status_code == 200
    assert http.post("/in", json={}, headers={"Authorization": "Bearer forged"}).status_code == 401
    assert http.post("/_sandbox/expire-tokens").json() == {"expired": 2}
    expired = http.post("/in", json={}, headers={"Authorization": f"Bearer {basic['access_token']}"})
    assert expired.status_code == 401 and expired.json()["detail"] == "invalid or expired access token"
    http.put("/_sandbox/config", json={})
    assert http.post("/oauth/token", data=form).status_code == 404
