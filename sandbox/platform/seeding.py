"""Fill the platform emulator with a realistic, seeded account: tags (including the
Touchpoint ones) applied to statuses, attendee types, questions, custom properties, events
and session custom fields; events with sessions whose custom fields hold links in each
accepted form; thousands of registrations. The same seed gives the same content; dates are
spread over the 30 days before the call (relative to the emulator's clock)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.platform.store import Store

FIRST = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim",
    "Margaret", "Linus", "Hedy", "John", "Katherine", "Dennis", "Sophie", "Bjarne", "Anita", "Guido",
]  # fmt: skip
LAST = [
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman",
    "Berners-Lee", "Hamilton", "Torvalds", "Lamarr", "McCarthy", "Johnson", "Ritchie", "Wilson",
]  # fmt: skip
ORGS = ["Initech", "Globex", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises", "Acme"]
POSITIONS = ["Engineer", "Marketing Manager", "CTO", "Analyst", "Product Owner", "Designer"]
EVENT_NAMES = ["SUMMIT", "EXPO", "DEVCON", "FORUM", "CONNECT", "WORKSHOP", "WORLD", "LIVE"]
TOPICS = ["Data", "Cloud", "Security", "Design", "AI", "Events", "Marketing", "Ops", "Mobile"]

TAGS: list[tuple[str, list[str]]] = [
    ("Touchpoint: Synced", ["RegistrationStatus"]),
    ("Touchpoint: Related Link", ["SessionCustomField"]),
    ("Signal: Registered", ["RegistrationStatus"]),
    ("Signal: Cancelled", ["RegistrationStatus"]),
    ("Signal: Attended", ["RegistrationStatus"]),
    ("Signal: Campaign ID", ["RegistrationQuestion"]),
    ("Signal: Job Function", ["RegistrationQuestion", "CustomProperty"]),
    ("Signal: VIP", ["AttendeeType"]),
    ("Signal: Speaker", ["AttendeeType"]),
    ("Signal: Flagship", ["Event"]),
    ("Interest: Keynote", ["Session"]),
]
STANDARD_TAGS = {
    "New": ["Touchpoint: Synced", "Signal: Registered"],
    "Pre-Registered": ["Touchpoint: Synced", "Signal: Registered"],
    "Attended": ["Touchpoint: Synced", "Signal: Attended"],
    "Cancelled": ["Signal: Cancelled"],
}
# (label, weight) for seeded registrations
STATUS_MIX = [
    ("New", 50),
    ("Pre-Registered", 10),
    ("Confirmed VIP", 5),
    ("Waitlist Hold", 8),
    ("Cancelled", 12),
    ("Attended", 10),
    ("Invited", 5),
]


def _link(rng: random.Random, i: int, kind: str) -> str:
    url = f"https://example.com/{kind}/{i}"
    style = rng.randrange(5)
    if style == 0:
        return (
            f'<p>Get the {kind}: <a href="{url}">{kind.title()} {i}</a> or <a href="{url}/alt">mirror</a></p>'
        )
    if style == 1:
        return f"See [{kind.title()} {i}]({url}) and [more]({url}/more)"
    if style == 2:
        return f"{url} (also {url}/more)"
    if style == 3:
        return ""
    return "no link here"


def populate(
    store: Store,
    *,
    seed: int = 0,
    account: str = "DEMO",
    events: int = 2,
    registrations_per_event: int = 2000,
    sessions_per_event: int = 20,
) -> dict[str, Any]:
    rng = random.Random(seed)
    acct = store.accounts.get(account) or store.create_account(account, f"{account} Events Inc.")
    for name, objects in TAGS:
        if name not in acct.tags:
            store.create_tag(acct, {"name": name, "label": name, "objects": objects})
    for label, tags in STANDARD_TAGS.items():
        acct.standard_status_tags[label] = list(tags)
    now = store.clock.now()
    created: list[str] = []
    n = 0
    for i in range(events):
        while True:
            n += 1
            code = f"{EVENT_NAMES[(n - 1) % len(EVENT_NAMES)]}{26 + (n - 1) // len(EVENT_NAMES)}"
            if (account, code) not in store.event_by_code:
                break
        ev = store.create_event(
            acct,
            {
                "eventCode": code,
                "eventName": f"{code.title()} {2026 + i // len(EVENT_NAMES)}",
                "startDate": f"2026-{3 + i % 9:02d}-10",
                "endDate": f"2026-{3 + i % 9:02d}-12",
                "tags": ["Signal: Flagship"] if i == 0 else [],
            },
        )
        created.append(code)
        store.upsert_catalog(
            "RegistrationStatus",
            ev,
            {"label": "Confirmed VIP", "description": "VIP, confirmed by the team", "classification": "Accepted",
             "tags": ["Touchpoint: Synced", "Signal: Registered"]},
        )  # fmt: skip
        for atc, name, tags in [
            ("ATT", "Attendee", []),
            ("SPK", "Speaker", ["Signal: Speaker"]),
            ("VIP", "VIP", ["Signal: VIP"]),
            ("EXH", "Exhibitor", []),
        ]:
            store.upsert_catalog("AttendeeType", ev, {"attendeeTypeCode": atc, "name": name, "tags": tags})
        q_campaign = store.upsert_catalog(
            "Question",
            ev,
            {"name": "Campaign ID", "questionCode": "CAMPAIGN", "tags": ["Signal: Campaign ID"]},
        )
        q_job = store.upsert_catalog(
            "Question",
            ev,
            {
                "name": "Job Function",
                "questionCode": "JOBFN",
                "type": "select",
                "tags": ["Signal: Job Function"],
            },
        )
        q_diet = store.upsert_catalog(
            "Question", ev, {"name": "Dietary Requirements", "questionCode": "DIET"}
        )
        p_shirt = store.upsert_catalog("CustomProperty", ev, {"name": "T-shirt size"})
        p_segment = store.upsert_catalog(
            "CustomProperty", ev, {"name": "Segment", "tags": ["Signal: Job Function"]}
        )
        f_slides = store.upsert_catalog(
            "SessionCustomField", ev, {"name": "Slides", "tags": ["Touchpoint: Related Link"]}
        )
        f_rec = store.upsert_catalog(
            "SessionCustomField", ev, {"name": "Recording", "tags": ["Touchpoint: Related Link"]}
        )
        f_room = store.upsert_catalog("SessionCustomField", ev, {"name": "Room notes"})
        for s in range(sessions_per_event):
            topic = rng.choice(TOPICS)
            store.upsert_session(
                ev,
                {
                    "sessionCode": f"S{s + 1:03d}",
                    "name": f"{topic} {rng.choice(['Deep Dive', 'Keynote', 'Panel', 'Workshop', 'Lab'])} #{s + 1}",
                    "startDate": f"2026-03-10T{9 + s % 8:02d}:00:00",
                    "endDate": f"2026-03-10T{9 + s % 8:02d}:45:00",
                    "location": f"Room {1 + s % 6}",
                    "tags": ["Interest: Keynote"] if s == 0 else [],
                    "customFields": {
                        f_slides["fieldId"]: _link(rng, s, "slides"),
                        f_rec["fieldId"]: _link(rng, s, "recording"),
                        f_room["fieldId"]: f"https://intranet.example.com/rooms/{s}",
                    },
                },
                emit=False,
            )
        labels = [lbl for lbl, _ in STATUS_MIX]
        weights = [w for _, w in STATUS_MIX]
        ats = ["ATT"] * 8 + ["SPK", "VIP", "EXH"]
        campaign = f"70{rng.randrange(10**6):06d}"
        span = 30 * 24 * 3600 * 1000
        start = now - span
        for r in range(registrations_per_event):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            pid = store.ids.get("profile", 0) + 1
            reg = store.create_registration(
                ev,
                {
                    "profile": {
                        "firstName": first,
                        "lastName": last,
                        "email": f"{first.lower()}.{last.lower()}.{pid}@example.com",
                        "organization": rng.choice(ORGS),
                        "position": rng.choice(POSITIONS),
                        "externalKey": f"EXT-{pid:07d}",
                        "phone": f"+1-555-{rng.randrange(10**7):07d}",
                    },
                    "registrationStatusLabel": rng.choices(labels, weights)[0],
                    "attendeeTypeCode": rng.choice(ats),
                    "questions": {
                        q_campaign["questionId"]: campaign,
                        q_job["questionId"]: rng.choice(POSITIONS),
                        q_diet["questionId"]: rng.choice(["None", "Vegetarian", "Vegan", "Halal"]),
                    },
                    "customProperties": {
                        p_shirt["propertyId"]: rng.choice(["S", "M", "L", "XL"]),
                        p_segment["propertyId"]: rng.choice(["Enterprise", "SMB", "Public"]),
                    },
                },
                emit=False,
            )
            created_at = start + (span * r) // max(registrations_per_event, 1)
            modified = min(created_at + rng.randrange(2 * 24 * 3600 * 1000), now)
            reg["dateCreated"] = created_at
            reg["dateModified"] = modified
            reg["statusModified"] = modified
    return {
        "account": account,
        "events": created,
        "registrations": registrations_per_event * len(created),
        "sessions": sessions_per_event * len(created),
    }
