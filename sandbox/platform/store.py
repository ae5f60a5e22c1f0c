"""In-memory state of the platform emulator: accounts, tags, events, statuses, attendee
types, questions, custom properties, session custom fields, sessions, profiles and
registrations. Plain dicts inside, shaped on output, so that a request costs little."""

from __future__ import annotations

import copy
import functools
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

STANDARD_STATUSES: list[tuple[str, str]] = [
    ("New", "Accepted"),
    ("Requested Invitation", "Pending"),
    ("Waitlist Hold", "Pending"),
    ("Invited", "Pending"),
    ("Request Denied", "Denied"),
    ("Invitation Sent", "Pending"),
    ("Pre-Registered", "Accepted"),
    ("Declined Invitation", "Denied"),
    ("Cancelled", "Cancelled"),
    ("No-show", "Accepted"),
    ("Attended", "Accepted"),
]
CLASSIFICATIONS = {"Accepted", "Pending", "Cancelled", "Denied"}

# What a tag may be applied to (Account Settings > Management > Tags, "Object(s)").
TAG_OBJECTS = {
    "Event",
    "RegistrationStatus",
    "AttendeeType",
    "RegistrationQuestion",
    "CustomProperty",
    "SessionCustomField",
    "Session",
}

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# Kept by the platform, not by a writer: equal records with other stamps are unchanged.
_STAMPS = frozenset({"dateModified", "statusModified", "seq"})


@functools.lru_cache(maxsize=1 << 16)
def fmt_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_date(value: str, name: str) -> int:
    """Accepts ISO 8601 (with or without zone, 'T' or space) or epoch milliseconds."""
    v = value.strip()
    if v.isdigit():
        return int(v)
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, f"{name}: {value!r} is not an ISO 8601 date-time or epoch milliseconds") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


@dataclass
class Clock:
    """Wall-clock milliseconds that never go backwards; ``offset_ms`` lets a test move time."""

    offset_ms: int = 0
    last: int = 0

    def now(self) -> int:
        t = max(int(time.time() * 1000) + self.offset_ms, self.last)
        self.last = t
        return t


@dataclass
class Account:
    code: str
    name: str
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name
    # standard status label -> tag names applied at account level
    standard_status_tags: dict[str, list[str]] = field(default_factory=dict)
    profiles: dict[int, dict[str, Any]] = field(default_factory=dict)
    by_email: dict[str, int] = field(default_factory=dict)
    by_pin: dict[str, int] = field(default_factory=dict)
    by_external: dict[str, int] = field(default_factory=dict)


@dataclass
class Event:
    event_id: int
    account: str
    code: str
    data: dict[str, Any]
    tags: list[str] = field(default_factory=list)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)  # custom, by label
    attendee_types: dict[str, dict[str, Any]] = field(default_factory=dict)  # by code
    questions: dict[int, dict[str, Any]] = field(default_factory=dict)  # by questionId
    properties: dict[int, dict[str, Any]] = field(default_factory=dict)  # by propertyId
    session_fields: dict[int, dict[str, Any]] = field(default_factory=dict)  # by fieldId
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)  # by sessionCode
    registrations: dict[str, dict[str, Any]] = field(default_factory=dict)  # by code
    reg_by_profile: dict[int, str] = field(default_factory=dict)


Emit = Callable[[str, Event, str, dict[str, Any], dict[str, Any]], None]


class Store:
    def __init__(self, emit: Emit | None = None) -> None:
        self.clock = Clock()
        self.accounts: dict[str, Account] = {}
        self.events: dict[int, Event] = {}
        self.event_by_code: dict[tuple[str, str], int] = {}
        self.ids: dict[str, int] = {}
        self.emit: Emit = emit or (lambda *a: None)

    def next_id(self, kind: str, start: int = 1) -> int:
        n = self.ids.get(kind, start - 1) + 1
        self.ids[kind] = n
        return n

    # ---- accounts and tags ---------------------------------------------------------

    def account(self, code: str) -> Account:
        acct = self.accounts.get(code)
        if acct is None:
            raise ApiError(404, f"account {code!r} not found")
        return acct

    def create_account(self, code: str, name: str | None = None) -> Account:
        if not code or not re.fullmatch(r"[A-Za-z0-9_-]+", code):
            raise ApiError(400, f"accountCode {code!r} must be letters, digits, '-' or '_'")
        if code in self.accounts:
            raise ApiError(409, f"account {code!r} already exists")
        acct = Account(code, name or code)
        self.accounts[code] = acct
        return acct

    def create_tag(self, acct: Account, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "tag: 'name' is required")
        objects = body.get("objects")
        if not isinstance(objects, list) or not objects:
            raise ApiError(400, f"tag {name!r}: 'objects' must be a non-empty list of {sorted(TAG_OBJECTS)}")
        bad = [o for o in objects if o not in TAG_OBJECTS]
        if bad:
            raise ApiError(400, f"tag {name!r}: unknown object(s) {bad}; allowed {sorted(TAG_OBJECTS)}")
        if name in acct.tags:
            raise ApiError(409, f"tag {name!r} already exists in account {acct.code!r}")
        tag = {
            "tagId": self.next_id("tag"),
            "name": name,
            "label": body.get("label") or name,
            "objects": list(dict.fromkeys(objects)),
        }
        acct.tags[name] = tag
        return tag

    def check_tags(self, acct: Account, names: Any, obj: str, where: str) -> list[str]:
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ApiError(400, f"{where}: 'tags' must be a list of tag names")
        for n in names:
            tag = acct.tags.get(n)
            if tag is None:
                raise ApiError(400, f"{where}: tag {n!r} does not exist in account {acct.code!r}")
            if obj not in tag["objects"]:
                raise ApiError(
                    400, f"{where}: tag {n!r} may not be applied to {obj} (it applies to {tag['objects']})"
                )
        return list(dict.fromkeys(names))

    def tag_view(self, acct: Account, names: Iterable[str]) -> list[dict[str, Any]]:
        out = []
        for n in names:
            t = acct.tags.get(n)
            if t is not None:
                out.append({"tagId": t["tagId"], "name": t["name"], "label": t["label"]})
        return out

    # ---- events ----------------------------------------------------------------------

    def event(self, account: str, code: str) -> Event:
        self.account(account)
        eid = self.event_by_code.get((account, code))
        if eid is None:
            raise ApiError(404, f"event {code!r} not found in account {account!r}")
        return self.events[eid]

    def create_event(self, acct: Account, body: dict[str, Any]) -> Event:
        code = body.get("eventCode")
        if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", code):
            raise ApiError(400, "event: 'eventCode' is required (letters, digits, '-' or '_')")
        if (acct.code, code) in self.event_by_code:
            raise ApiError(409, f"event {code!r} already exists in account {acct.code!r}")
        if body.get("eventId") is not None:
            eid = body["eventId"]
            if not isinstance(eid, int) or eid in self.events:
                raise ApiError(409, f"event: eventId {eid!r} already exists or is not an integer")
        else:
            eid = self.next_id("event", 1001)
            while eid in self.events:
                eid = self.next_id("event", 1001)
        now = self.clock.now()
        ev = Event(
            eid,
            acct.code,
            code,
            {
                "eventName": body.get("eventName") or code,
                "startDate": body.get("startDate"),
                "endDate": body.get("endDate"),
                "isActive": bool(body.get("isActive", True)),
                "dateCreated": now,
                "dateModified": now,
            },
        )
        ev.tags = self.check_tags(acct, body.get("tags", []), "Event", f"event {code!r}")
        self.events[eid] = ev
        self.event_by_code[(acct.code, code)] = eid
        return ev

    def update_event(self, ev: Event, body: dict[str, Any]) -> Event:
        acct = self.account(ev.account)
        new_code = body.get("eventCode")
        if new_code is not None and new_code != ev.code:
            if not isinstance(new_code, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", new_code):
                raise ApiError(400, "event: 'eventCode' must be letters, digits, '-' or '_'")
            if (ev.account, new_code) in self.event_by_code:
                raise ApiError(409, f"event {new_code!r} already exists in account {ev.account!r}")
            del self.event_by_code[(ev.account, ev.code)]
            ev.code = new_code
            self.event_by_code[(ev.account, new_code)] = ev.event_id
            for reg in ev.registrations.values():
                reg["eventCode"] = new_code
        if "tags" in body:
            ev.tags = self.check_tags(acct, body["tags"], "Event", f"event {ev.code!r}")
        for k in ("eventName", "startDate", "endDate", "isActive"):
            if k in body:
                ev.data[k] = body[k]
        ev.data["dateModified"] = self.clock.now()
        return ev

    def event_view(self, ev: Event, tags: bool) -> dict[str, Any]:
        d = ev.data
        out = {
            "eventId": ev.event_id,
            "accountCode": ev.account,
            "eventCode": ev.code,
            "eventName": d["eventName"],
            "startDate": d["startDate"],
            "endDate": d["endDate"],
            "isActive": d["isActive"],
            "dateCreated": fmt_ms(d["dateCreated"]),
            "dateModified": fmt_ms(d["dateModified"]),
        }
        if tags:
            out["tags"] = self.tag_view(self.account(ev.account), ev.tags)
        return out

    # ---- statuses ----------------------------------------------------------------------

    def status_info(self, ev: Event, label: str) -> tuple[str, list[str]] | None:
        """(classification, tags) of a status usable in this event, standard or custom."""
        custom = ev.statuses.get(label)
        if custom is not None:
            return custom["classification"], custom["tags"]
        for std, cls in STANDARD_STATUSES:
            if std == label:
                return cls, self.account(ev.account).standard_status_tags.get(std, [])
        return None

    def status_views(self, acct: Account, ev: Event | None, tags: bool) -> list[dict[str, Any]]:
        out = []
        for i, (label, cls) in enumerate(STANDARD_STATUSES, start=1):
            item: dict[str, Any] = {"statusId": i, "label": label, "classification": cls, "isStandard": True}
            if tags:
                item["tags"] = self.tag_view(acct, acct.standard_status_tags.get(label, []))
            out.append(item)
        if ev is not None:
            for s in ev.statuses.values():
                item = {k: v for k, v in s.items() if k != "tags"}
                item["isStandard"] = False
                if tags:
                    item["tags"] = self.tag_view(acct, s["tags"])
                out.append(item)
        return out

    # ---- generic per-event catalog objects ---------------------------------------------

    CATALOG: dict[str, tuple[str, str, str]] = {
        # object name -> (Event attribute, key field, tag object type)
        "RegistrationStatus": ("statuses", "label", "RegistrationStatus"),
        "AttendeeType": ("attendee_types", "attendeeTypeCode", "AttendeeType"),
        "Question": ("questions", "questionId", "RegistrationQuestion"),
        "CustomProperty": ("properties", "propertyId", "CustomProperty"),
        "SessionCustomField": ("session_fields", "fieldId", "SessionCustomField"),
    }

    def upsert_catalog(
        self, obj: str, ev: Event, body: dict[str, Any], key: str | None = None
    ) -> dict[str, Any]:
        attr, key_field, tag_obj = self.CATALOG[obj]
        table: dict[Any, dict[str, Any]] = getattr(ev, attr)
        acct = self.account(ev.account)
        if key is None:  # create
            if key_field in ("questionId", "propertyId", "fieldId"):
                k: Any = self.next_id(obj)
            else:
                k = body.get(key_field)
                if not isinstance(k, str) or not k.strip():
                    raise ApiError(400, f"{obj}: '{key_field}' is required")
                if k in table or (obj == "RegistrationStatus" and any(k == s for s, _ in STANDARD_STATUSES)):
                    raise ApiError(409, f"{obj} {k!r} already exists in event {ev.code!r}")
            item: dict[str, Any] = {key_field: k, "tags": []}
            if obj == "RegistrationStatus":
                item["statusId"] = 100 + self.next_id("status")
                item["description"] = ""
                item["classification"] = "Accepted"
            elif obj == "AttendeeType":
                item["name"] = k
            else:
                item["name"] = ""
            if obj == "Question":
                item["questionCode"] = f"Q{k}"
                item["type"] = "text"
            if obj == "SessionCustomField":
                item["position"] = len(table) + 1
        else:
            item = self.catalog_item(obj, ev, key)
            k = item[key_field]
        for f, v in body.items():
            if f in (key_field, "statusId"):
                continue
            if f == "tags":
                item["tags"] = self.check_tags(acct, v, tag_obj, f"{obj} {k!r}")
            elif f == "classification":
                if v not in CLASSIFICATIONS:
                    raise ApiError(
                        400, f"{obj} {k!r}: classification must be one of {sorted(CLASSIFICATIONS)}"
                    )
                item[f] = v
            else:
                item[f] = v
        if key is None and obj in ("Question", "CustomProperty", "SessionCustomField") and not item["name"]:
            raise ApiError(400, f"{obj}: 'name' is required")
        table[k] = item
        return item

    def catalog_item(self, obj: str, ev: Event, key: str) -> dict[str, Any]:
        attr, key_field, _ = self.CATALOG[obj]
        table: dict[Any, dict[str, Any]] = getattr(ev, attr)
        k: Any = int(key) if key_field in ("questionId", "propertyId", "fieldId") and key.isdigit() else key
        item = table.get(k)
        if item is None:
            raise ApiError(404, f"{obj} {key!r} not found in event {ev.code!r}")
        return item

    def catalog_views(self, obj: str, ev: Event, tags: bool) -> list[dict[str, Any]]:
        attr, _, _ = self.CATALOG[obj]
        acct = self.account(ev.account)
        out = []
        for item in getattr(ev, attr).values():
            view = {k: v for k, v in item.items() if k != "tags"}
            if tags:
                view["tags"] = self.tag_view(acct, item["tags"])
            out.append(view)
        return out

    def find_question(self, ev: Event, ref: Any) -> dict[str, Any] | None:
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return ev.questions.get(int(ref))
        return next((q for q in ev.questions.values() if ref in (q["questionCode"], q["name"])), None)

    def find_property(self, ev: Event, ref: Any) -> dict[str, Any] | None:
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return ev.properties.get(int(ref))
        return next((p for p in ev.properties.values() if p["name"] == ref), None)

    # ---- profiles and registrations ------------------------------------------------------

    PROFILE_FIELDS = (
        "firstName",
        "lastName",
        "email",
        "organization",
        "position",
        "phone",
        "phoneMobile",
        "externalKey",
        "pin",
    )

    def _index_profile(self, acct: Account, p: dict[str, Any]) -> None:
        if p.get("email"):
            acct.by_email[p["email"].lower()] = p["pkProfileId"]
        if p.get("pin"):
            acct.by_pin[p["pin"]] = p["pkProfileId"]
        if p.get("externalKey"):
            acct.by_external[p["externalKey"]] = p["pkProfileId"]

    def _check_profile(self, data: Any, where: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ApiError(400, f"{where}: 'profile' must be an object")
        email = data.get("email")
        if email is not None and (not isinstance(email, str) or not EMAIL_RE.match(email)):
            raise ApiError(400, f"{where}: profile.email {email!r} is not an email address")
        return {k: data[k] for k in self.PROFILE_FIELDS if k in data}

    def new_profile(self, acct: Account, fields: dict[str, Any], where: str) -> dict[str, Any]:
        pin = fields.get("pin")
        if pin and pin in acct.by_pin:
            raise ApiError(400, f"{where}: A profile already exists for given profile pin")
        pid = self.next_id("profile")
        p: dict[str, Any] = {k: None for k in self.PROFILE_FIELDS}
        p.update(fields)
        p["pkProfileId"] = pid
        p["pin"] = pin or f"P{pid:08d}"
        acct.profiles[pid] = p
        self._index_profile(acct, p)
        return p

    def update_profile(self, acct: Account, p: dict[str, Any], fields: dict[str, Any], where: str) -> None:
        if fields.get("pin") and fields["pin"] != p["pin"] and fields["pin"] in acct.by_pin:
            raise ApiError(400, f"{where}: A profile already exists for given profile pin")
        # drop index entries for keys that change, so the old email/pin/key no longer match
        for index, k in ((acct.by_email, "email"), (acct.by_pin, "pin"), (acct.by_external, "externalKey")):
            old = p.get(k)
            if k in fields and old:
                norm = old.lower() if k == "email" else old
                if index.get(norm) == p["pkProfileId"]:
                    del index[norm]
        p.update(fields)
        self._index_profile(acct, p)

    def profile_by_pin(self, acct: Account, pin: str) -> dict[str, Any]:
        pid = acct.by_pin.get(pin)
        if pid is None:
            raise ApiError(404, f"profile {pin!r} not found in account {acct.code!r}")
        return acct.profiles[pid]

    def profile_registrations(self, acct: Account, pid: int) -> list[tuple[Event, dict[str, Any]]]:
        out = []
        for ev in self.events.values():
            if ev.account == acct.code and pid in ev.reg_by_profile:
                out.append((ev, ev.registrations[ev.reg_by_profile[pid]]))
        return out

    def match_profile(self, acct: Account, by: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        if by == "email":
            pid = acct.by_email.get((fields.get("email") or "").lower())
        elif by == "pin":
            pid = acct.by_pin.get(fields.get("pin") or "")
        else:
            pid = acct.by_external.get(fields.get("externalKey") or "")
        return acct.profiles.get(pid) if pid is not None else None

    def _apply_reg_fields(self, ev: Event, reg: dict[str, Any], body: dict[str, Any], where: str) -> None:
        if "registrationStatusLabel" in body:
            label = body["registrationStatusLabel"]
            if self.status_info(ev, label) is None:
                raise ApiError(
                    400, f"{where}: registrationStatusLabel {label!r} is not a status of event {ev.code!r}"
                )
        if "attendeeTypeCode" in body and body["attendeeTypeCode"] not in ev.attendee_types:
            raise ApiError(
                400,
                f"{where}: attendeeTypeCode {body['attendeeTypeCode']!r} is not an attendee type of {ev.code!r}",
            )
        answers = dict(reg["answers"])
        rq = body.get("registrationQuestions")
        if rq is not None:
            qs = rq.get("question") if isinstance(rq, dict) else None
            if not isinstance(qs, list):
                raise ApiError(400, f"{where}: registrationQuestions must be {{'question': [...]}}")
            for q in qs:
                ref = q.get("questionId", q.get("questionCode")) if isinstance(q, dict) else None
                found = self.find_question(ev, ref)
                if found is None:
                    raise ApiError(400, f"{where}: question {ref!r} does not exist in event {ev.code!r}")
                vals = [
                    a.get("value") for a in (q.get("answers") or {}).get("answer", []) if isinstance(a, dict)
                ]
                answers[found["questionId"]] = vals
        simple = body.get("questions")
        if simple is not None:
            if not isinstance(simple, dict):
                raise ApiError(400, f"{where}: 'questions' must map question code or id to an answer")
            for ref, value in simple.items():
                found = self.find_question(ev, ref)
                if found is None:
                    raise ApiError(400, f"{where}: question {ref!r} does not exist in event {ev.code!r}")
                answers[found["questionId"]] = value if isinstance(value, list) else [value]
        props = dict(reg["props"])
        cp = body.get("customProperties")
        items: list[tuple[Any, Any]] = []
        if isinstance(cp, list):
            items += [(c.get("propertyId", c.get("name")), c.get("value")) for c in cp if isinstance(c, dict)]
        elif isinstance(cp, dict):
            items += list(cp.items())
        elif cp is not None:
            raise ApiError(400, f"{where}: 'customProperties' must be a list or an object")
        for ref, value in items:
            found = self.find_property(ev, ref)
            if found is None:
                raise ApiError(400, f"{where}: custom property {ref!r} does not exist in event {ev.code!r}")
            props[found["propertyId"]] = value
        # all checks passed: mutate
        reg["answers"] = answers
        reg["props"] = props
        for k in ("attendeeTypeCode", "isActive", "isConfirmed"):
            if k in body:
                reg[k] = body[k]
        if "registrationStatusLabel" in body:
            reg["registrationStatusLabel"] = body["registrationStatusLabel"]

    def create_registration(
        self,
        ev: Event,
        body: dict[str, Any],
        profile_identifier: str | None = None,
        allow_duplicates: bool = True,
        emit: bool = True,
        where: str = "registration",
    ) -> dict[str, Any]:
        acct = self.account(ev.account)
        if not isinstance(body, dict):
            raise ApiError(400, f"{where}: body must be a JSON object")
        fields = self._check_profile(body.get("profile", {}), where)
        profile = None
        if profile_identifier:
            by = {"EMAIL": "email", "PIN": "pin", "EXTERNAL": "externalKey"}[
                profile_identifier.removeprefix("SYNC_")
            ]
            if not fields.get(by):
                raise ApiError(400, f"{where}: profileIdentifier={profile_identifier} needs profile.{by}")
            profile = self.match_profile(acct, by, fields)
            if profile is not None and profile_identifier.startswith("SYNC_"):
                self.update_profile(acct, profile, fields, where)
        if profile is not None and profile["pkProfileId"] in ev.reg_by_profile and not allow_duplicates:
            raise ApiError(
                409, f"{where}: profile {profile['pin']!r} is already registered for event {ev.code!r}"
            )
        reg: dict[str, Any] = {
            "registrationStatusLabel": "New",
            "attendeeTypeCode": next(iter(ev.attendee_types), None),
            "isActive": True,
            "isConfirmed": True,
            "answers": {},
            "props": {},
        }
        self._apply_reg_fields(ev, reg, body, where)
        given = body.get("registrationCode")
        if given is not None and (not isinstance(given, str) or given in ev.registrations):
            raise ApiError(409, f"{where}: registrationCode {given!r} already exists or is not a string")
        if profile is None:
            profile = self.new_profile(acct, fields, where)
        rid = self.next_id("reg")
        now = self.clock.now()
        code = given or f"R{rid:08d}"
        reg.update(
            {
                "pkRegId": rid,
                "eventId": ev.event_id,
                "registrationCode": code,
                "profileId": profile["pkProfileId"],
                "dateCreated": now,
                "dateModified": now,
                "statusModified": now,
                "seq": 0,
            }
        )
        ev.registrations[code] = reg
        ev.reg_by_profile[profile["pkProfileId"]] = code
        if emit:
            self.emit("registration.created", ev, code, reg, {})
        return reg

    def update_registration(
        self,
        ev: Event,
        reg: dict[str, Any],
        body: dict[str, Any],
        emit: bool = True,
        where: str = "registration",
    ) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, f"{where}: body must be a JSON object")
        acct = self.account(ev.account)
        fields = self._check_profile(body.get("profile", {}), where)
        before = reg["registrationStatusLabel"]
        state = self.registration_state(ev, reg)
        self._apply_reg_fields(ev, reg, body, where)
        if fields:
            self.update_profile(acct, acct.profiles[reg["profileId"]], fields, where)
        if self.registration_state(ev, reg) != state:
            self.touch(ev, reg, before, emit)
        return reg

    def registration_state(self, ev: Event, reg: dict[str, Any]) -> Any:
        """What a registration holds, stamps aside: an update that leaves it equal changes
        nothing, so it gets no new dateModified and no webhook (a real platform's change
        webhooks report changes, not writes)."""
        profile = self.accounts[ev.account].profiles[reg["profileId"]]
        return copy.deepcopy(({k: v for k, v in reg.items() if k not in _STAMPS}, profile))

    def touch(self, ev: Event, reg: dict[str, Any], status_before: str, emit: bool = True) -> None:
        now = self.clock.now()
        reg["dateModified"] = now
        changed = reg["registrationStatusLabel"] != status_before
        if changed:
            reg["statusModified"] = now
        if emit:
            kind = "registration.status_changed" if changed else "registration.updated"
            self.emit(
                kind, ev, reg["registrationCode"], reg, {"previousStatus": status_before} if changed else {}
            )

    def registration(self, ev: Event, code: str) -> dict[str, Any]:
        reg = ev.registrations.get(code)
        if reg is None:
            raise ApiError(404, f"registration {code!r} not found in event {ev.code!r}")
        return reg

    def registration_view(self, ev: Event, reg: dict[str, Any], include: set[str]) -> dict[str, Any]:
        acct = self.accounts[ev.account]
        p = acct.profiles[reg["profileId"]]
        label = reg["registrationStatusLabel"]
        info = self.status_info(ev, label) or ("Accepted", [])
        at = ev.attendee_types.get(reg["attendeeTypeCode"] or "")
        out: dict[str, Any] = {
            "pkRegId": reg["pkRegId"],
            "registrationCode": reg["registrationCode"],
            "accountCode": ev.account,
            "eventCode": ev.code,
            "eventId": ev.event_id,
            "attendeeTypeCode": reg["attendeeTypeCode"],
            "attendeeType": at["name"] if at else None,
            "registrationStatusLabel": label,
            "registrationStatusClassification": info[0],
            "isActive": reg["isActive"],
            "isConfirmed": reg["isConfirmed"],
            "dateCreated": fmt_ms(reg["dateCreated"]),
            "dateModified": fmt_ms(reg["dateModified"]),
            "statusModified": fmt_ms(reg["statusModified"]),
            "profile": dict(p),
        }
        tags = "tags" in include
        if "registration_questions" in include:
            qs = []
            for qid, vals in reg["answers"].items():
                q = ev.questions.get(qid)
                if q is None:
                    continue
                item = {
                    "questionId": qid,
                    "questionCode": q["questionCode"],
                    "questionField": q["name"],
                    "answers": {"answer": [{"value": v} for v in vals]},
                }
                if tags:
                    item["tags"] = self.tag_view(acct, q["tags"])
                qs.append(item)
            out["registrationQuestions"] = {"question": qs}
        if "reg_properties" in include:
            props = []
            for pid, value in reg["props"].items():
                prop = ev.properties.get(pid)
                if prop is None:
                    continue
                item = {"propertyId": pid, "name": prop["name"], "value": value}
                if tags:
                    item["tags"] = self.tag_view(acct, prop["tags"])
                props.append(item)
            out["customProperties"] = props
        if tags:
            out["tags"] = {
                "event": self.tag_view(acct, ev.tags),
                "registrationStatus": self.tag_view(acct, info[1]),
                "attendeeType": self.tag_view(acct, at["tags"]) if at else [],
            }
        return out

    # ---- sessions --------------------------------------------------------------------------

    def upsert_session(
        self, ev: Event, body: dict[str, Any], code: str | None = None, emit: bool = True
    ) -> dict[str, Any]:
        acct = self.account(ev.account)
        if not isinstance(body, dict):
            raise ApiError(400, "session: body must be a JSON object")
        creating = code is None
        if creating:
            code = body.get("sessionCode") or f"S{self.ids.get('session', 0) + 1:05d}"
            if code in ev.sessions:
                raise ApiError(409, f"session {code!r} already exists in event {ev.code!r}")
            s: dict[str, Any] = {
                "sessionId": self.next_id("session"),
                "sessionCode": code,
                "name": "",
                "description": "",
                "startDate": None,
                "endDate": None,
                "location": None,
                "values": {},
                "tags": [],
                "seq": 0,
            }
        else:
            assert code is not None
            s = ev.sessions.get(code) or {}
            if not s:
                raise ApiError(404, f"session {code!r} not found in event {ev.code!r}")
        state = copy.deepcopy({k: v for k, v in s.items() if k not in _STAMPS})
        values = dict(s["values"])
        cf = body.get("customFields")
        if cf is not None:
            pairs: list[tuple[Any, Any]]
            if isinstance(cf, dict):
                pairs = list(cf.items())
            elif isinstance(cf, list):
                pairs = [(c.get("fieldId", c.get("name")), c.get("value")) for c in cf if isinstance(c, dict)]
            else:
                raise ApiError(400, f"session {code!r}: 'customFields' must be a list or an object")
            for ref, value in pairs:
                f = self._session_field(ev, ref)
                if f is None:
                    raise ApiError(
                        400, f"session {code!r}: custom field {ref!r} does not exist in event {ev.code!r}"
                    )
                values[f["fieldId"]] = value
        if "tags" in body:
            s["tags"] = self.check_tags(acct, body["tags"], "Session", f"session {code!r}")
        for k in ("name", "description", "startDate", "endDate", "location"):
            if k in body:
                s[k] = body[k]
        if creating and not s["name"]:
            raise ApiError(400, "session: 'name' is required")
        s["values"] = values
        if not creating and {k: v for k, v in s.items() if k not in _STAMPS} == state:
            return s  # nothing changed: no new dateModified, no session.updated
        now = self.clock.now()
        if creating:
            s["dateCreated"] = now
        s["dateModified"] = now
        ev.sessions[code] = s
        if emit:
            self.emit("session.created" if creating else "session.updated", ev, code, s, {})
        return s

    def _session_field(self, ev: Event, ref: Any) -> dict[str, Any] | None:
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return ev.session_fields.get(int(ref))
        return next((f for f in ev.session_fields.values() if f["name"] == ref), None)

    def session_view(self, ev: Event, s: dict[str, Any], tags: bool) -> dict[str, Any]:
        acct = self.accounts[ev.account]
        fields = []
        for f in sorted(ev.session_fields.values(), key=lambda f: (f["position"], f["fieldId"])):
            item = {"fieldId": f["fieldId"], "name": f["name"], "position": f["position"]}
            item["value"] = s["values"].get(f["fieldId"])
            if tags:
                item["tags"] = self.tag_view(acct, f["tags"])
            fields.append(item)
        out = {
            "sessionId": s["sessionId"],
            "sessionCode": s["sessionCode"],
            "accountCode": ev.account,
            "eventCode": ev.code,
            "eventId": ev.event_id,
            "name": s["name"],
            "description": s["description"],
            "startDate": s["startDate"],
            "endDate": s["endDate"],
            "location": s["location"],
            "dateCreated": fmt_ms(s["dateCreated"]),
            "dateModified": fmt_ms(s["dateModified"]),
            "customFields": fields,
        }
        if tags:
            out["tags"] = self.tag_view(acct, s["tags"])
        return out
