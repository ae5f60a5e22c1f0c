from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox import touchpoint
from sandbox.serving import served

TOKEN = {"Authorization": "Bearer tp-sandbox-token"}
EV = "/api/v1/events/1001"


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with served(touchpoint.create_app(max_links=3)) as s, httpx.Client(base_url=s.url, headers=TOKEN) as c:
        yield c


@pytest.fixture(autouse=True)
def _reset(http: httpx.Client) -> None:
    http.post("/_sandbox/reset")


def attendee(email: str = "a@example.org", **kw: object) -> dict[str, object]:
    return {"first_name": "Ada", "last_name": "L", "email": email, **kw}


def test_bearer_auth_shapes(http: httpx.Client) -> None:
    base = str(http.base_url)
    missing = httpx.get(f"{base}/api/v1/events")
    assert missing.status_code == 401
    assert missing.json() == {"error": {"code": "unauthorized", "message": "missing bearer token"}}
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx.get(f"{base}/api/v1/events", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "invalid bearer token"
    assert http.get("/api/v1/events").status_code == 200


def test_attendee_upsert_deactivate_delete(http: httpx.Client) -> None:
    created = http.put(f"{EV}/attendees/R00000001", json=attendee(status="New"))
    assert created.status_code == 201
    assert created.json()["active"] is True and created.json()["version"] == 1
    updated = http.put(f"{EV}/attendees/R00000001", json={"job_title": "CTO"})
    assert updated.status_code == 200
    assert updated.json()["job_title"] == "CTO" and updated.json()["email"] == "a@example.org"
    off = http.post(f"{EV}/attendees/R00000001/deactivate").json()
    assert off["active"] is False and off["version"] == 3
    assert http.post(f"{EV}/attendees/R00000001/deactivate").json()["version"] == 3  # idempotent
    back = http.put(f"{EV}/attendees/R00000001", json={}).json()
    assert back["active"] is True  # an upsert reactivates
    assert http.delete(f"{EV}/attendees/R00000001").status_code == 204
    assert http.delete(f"{EV}/attendees/R00000001").status_code == 204  # idempotent
    gone = http.get(f"{EV}/attendees/R00000001")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "attendee_not_found"
    assert http.post(f"{EV}/attendees/R404/deactivate").status_code == 404


def test_attendee_validation_errors_name_the_field(http: httpx.Client) -> None:
    bad = http.put(f"{EV}/attendees/R1", json={"email": "nope"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "email"
    extra = http.put(f"{EV}/attendees/R1", json=attendee(shoe_size=9))
    assert extra.json()["error"] == {
        "code": "unknown_field",
        "message": "attendee 'R1': unknown field(s) ['shoe_size']",
        "field": "shoe_size",
    }
    assert http.put(f"{EV}/attendees/bad%20code", json=attendee()).status_code == 422


def test_batch_upsert_per_item_results(http: httpx.Client) -> None:
    r = http.post(
        f"{EV}/attendees/batch",
        json={
            "attendees": [
                {"registration_code": "R1", **attendee()},
                {"registration_code": "R2", "email": "x"},
            ]
        },
    ).json()
    assert [x["result"] for x in r["results"]] == ["created", "error"]
    assert r["results"][1]["error"]["field"] == "email"
    big = http.post(f"{EV}/attendees/batch", json={"attendees": [attendee()] * 101})
    assert big.status_code == 413


def test_list_attendees_pages_to_the_end_and_filters(http: httpx.Client) -> None:
    for i in range(7):
        http.put(f"{EV}/attendees/R{i:02d}", json=attendee(f"p{i}@example.org"))
    http.post(f"{EV}/attendees/R03/deactivate")
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = http.get(f"{EV}/attendees", params=params).json()
        seen += [a["registration_code"] for a in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"R{i:02d}" for i in range(7)]
    inactive = http.get(f"{EV}/attendees", params={"active": "false"}).json()["data"]
    assert [a["registration_code"] for a in inactive] == ["R03"]
    ev = http.get(EV).json()
    assert (ev["attendee_count"], ev["active_attendee_count"]) == (7, 6)
    assert http.get("/api/v1/events/999/attendees").status_code == 404


def test_session_related_links_are_replaced_whole_in_order(http: httpx.Client) -> None:
    url = f"{EV}/sessions/S001/related-links"
    assert http.put(url, json={"links": []}).status_code == 404  # session must exist first
    assert http.put(f"{EV}/sessions/S001", json={"title": "Keynote"}).status_code == 201
    links = [{"title": "Slides", "url": "https://x.test/s"}, {"title": "Video", "url": "https://x.test/v"}]
    got = http.put(url, json={"links": links}).json()
    assert got["related_links"] == [{"position": 1, **links[0]}, {"position": 2, **links[1]}]
    got = http.put(url, json={"links": links[1:]}).json()
    assert [x["title"] for x in got["related_links"]] == ["Video"]
    renamed = http.put(f"{EV}/sessions/S001", json={"title": "Opening keynote"}).json()
    assert renamed["related_links"][0]["title"] == "Video"  # session upsert keeps links
    assert (
        http.put(url, json={"links": [{"title": "x", "url": "ftp://x"}]}).json()["error"]["field"]
        == "links[0].url"
    )
    assert http.put(url, json={"links": links * 2}).json()["error"]["code"] == "too_many_links"
    assert http.put(url, json={"links": []}).json()["related_links"] == []
    listed = http.get(f"{EV}/sessions").json()["data"]
    assert [s["session_code"] for s in listed] == ["S001"]
    assert http.delete(f"{EV}/sessions/S001").status_code == 204


def test_event_metadata_and_faults(http: httpx.Client) -> None:
    ev = http.put(EV, json={"name": "Summit", "event_code": "SUMMIT26", "visibility": "live"}).json()
    assert ev["event_code"] == "SUMMIT26"
    assert http.put(EV, json={"visibility": "hidden"}).status_code == 422
    http.post(
        "/_sandbox/faults",
        json={"path": "/api/v1/events", "status": 429, "headers": {"Retry-After": "1"}, "times": 1},
    )
    limited = http.get("/api/v1/events")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert http.get("/api/v1/events").status_code == 200
    state = http.get("/_sandbox/state").json()
    assert state["calls"]["event.put"] == 1
