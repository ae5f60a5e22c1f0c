"""Paginated REST source for API Fetch: one seeded dataset served in every pagination style.

Records: ``{"id", "updatedAt" (ISO 8601, second precision, Z), "updatedAtEpoch",
"name": {"first", "last"}, "email", "company": {"name", "address": {"city", "country"}},
"tags": [...]}``. Seeded timestamps repeat in runs of ``ties`` records so that boundary
ties (records sharing the checkpoint value) occur on every page.

Endpoints (all accept the filter below and ``sort=id|updatedAt``):

=====================  ===========================================  ==========================
path                   request                                      where the next page is
=====================  ===========================================  ==========================
GET /api/page          ``page`` (1-based), ``count``                ``total``/``pageSize`` (Eloqua shape)
GET /api/offset        ``offset``, ``limit``                        ``total``, ``hasMore``
GET|POST /api/cursor   ``cursor``, ``limit`` (query or JSON body)   ``cursors.next`` in the body
GET /api/next          ``after``, ``limit``                         ``next`` URL in the body
GET /api/link          ``page`` (1-based), ``per_page``             RFC 5988 ``Link`` header
=====================  ===========================================  ==========================

Filter: Eloqua style ``?lastUpdatedAt>'<value>'`` (also ``>=``, ``<``, ``<=``, ``=``) or
``search=updatedAt>'<value>'``; the value is epoch seconds or ISO 8601. With a filter the
default order is ``updatedAt`` then ``id``; without, ``id``.

Cursor and next-URL pages are keyset pages (after the last ``(sort key, id)`` seen), so
records added or modified mid-fetch are never skipped: a modified record moves past the
cursor and is read again. Page/offset/link pages are positional: on a source that changes
while it is read they can skip or repeat records, exactly as real APIs do.

Admin: ``POST /_sandbox/records`` (add), ``PATCH /_sandbox/records/{id}`` (modify: bumps
``updatedAt``), ``DELETE /_sandbox/records/{id}``, ``GET /_sandbox/records``,
``PUT /_sandbox/churn`` (add/modify records automatically every N data requests),
``GET /_sandbox/state``, ``POST /_sandbox/reset`` (``{"seed", "count"}``), ``PUT /_sandbox/auth``.
"""

from __future__ import annotations

import base64
import json
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlencode

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from sandbox import faults as faults_mod
from sandbox.authcheck import AuthConfig, TokenIssuer, challenge, check, install_token_endpoint

DEFAULT_PORT = 8704
ADMIN = faults_mod.ADMIN_PREFIX
BASE_EPOCH = 1767225600  # 2026-01-01T00:00:00Z

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman"]
CITIES = [("Lisbon", "PT"), ("Oslo", "NO"), ("Austin", "US"), ("Kyoto", "JP"), ("Lyon", "FR")]
TAGS = ["vip", "speaker", "sponsor", "press", "staff"]


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> int:
    value = value.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", value):
        return int(float(value))
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HTTPException(400, f"filter value {value!r} is neither epoch seconds nor ISO 8601") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


class Churn(BaseModel):
    every_requests: int = Field(default=0, ge=0, description="0 = off")
    add: int = Field(default=0, ge=0)
    modify: int = Field(default=0, ge=0)


@dataclass
class Dataset:
    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1
    clock: int = BASE_EPOCH
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    churn: Churn = field(default_factory=Churn)
    data_requests: int = 0
    version: int = 0
    _sorted: dict[str, tuple[int, list[dict[str, Any]]]] = field(default_factory=dict)

    def sorted_by(self, sort: str) -> list[dict[str, Any]]:
        """Sorted view, recomputed only after a change: every data request starts here."""
        cached = self._sorted.get(sort)
        if cached is None or cached[0] != self.version:
            cached = (self.version, sorted(self.records.values(), key=_sort_key(sort)))
            self._sorted[sort] = cached
        return cached[1]

    def seed(self, seed: int, count: int, ties: int) -> None:
        self.records.clear()
        self.version += 1
        self.rng = random.Random(seed)
        self.next_id = 1
        self.clock = BASE_EPOCH
        for i in range(count):
            self.add({}, at=BASE_EPOCH + i // max(ties, 1))
        self.clock = max(self.clock, BASE_EPOCH + max(count - 1, 0) // max(ties, 1))

    def _fake(self, rid: int) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, country = rng.choice(CITIES)
        return {
            "name": {"first": first, "last": last},
            "email": f"{first.lower()}.{last.lower()}.{rid}@example.com",
            "company": {"name": f"{last} Labs", "address": {"city": city, "country": country}},
            "tags": sorted(rng.sample(TAGS, rng.randint(0, 2))),
        }

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def add(self, fields: dict[str, Any], at: int | None = None) -> dict[str, Any]:
        rid = int(fields.get("id") or self.next_id)
        if rid in self.records:
            raise HTTPException(409, f"record id {rid} already exists")
        self.next_id = max(self.next_id, rid + 1)
        ts = at if at is not None else self._ts(fields)
        rec = {"id": rid, **self._fake(rid), **{k: v for k, v in fields.items() if k != "id"}}
        self._stamp(rec, ts)
        self.records[rid] = rec
        self.version += 1
        return rec

    def modify(self, rid: int, fields: dict[str, Any]) -> dict[str, Any]:
        rec = self.records.get(rid)
        if rec is None:
            raise HTTPException(404, f"no record with id {rid}")
        rec.update({k: v for k, v in fields.items() if k not in ("id", "updatedAtEpoch")})
        self.version += 1
        self._stamp(rec, self._ts(fields))
        return rec

    def _ts(self, fields: dict[str, Any]) -> int:
        if fields.get("updatedAt") is not None:
            ts = parse_time(str(fields["updatedAt"]))
            self.clock = max(self.clock, ts)
            return ts
        return self.tick()

    @staticmethod
    def _stamp(rec: dict[str, Any], ts: int) -> None:
        rec["updatedAt"] = iso(ts)
        rec["updatedAtEpoch"] = ts

    def apply_churn(self) -> None:
        c = self.churn
        self.data_requests += 1
        if not c.every_requests or self.data_requests % c.every_requests:
            return
        ids = sorted(self.records)
        for rid in self.rng.sample(ids, min(c.modify, len(ids))):
            self.modify(rid, {"tags": ["churned"]})
        for _ in range(c.add):
            self.add({})


_FILTER = re.compile(r"(?:lastUpdatedAt|updatedAt)\s*(>=|<=|>|<|=)\s*'([^']*)'")


def _filtered(ds: Dataset, request: Request) -> tuple[list[dict[str, Any]], str]:
    raw = unquote(request.url.query.replace("+", " "))
    conds = [(op, parse_time(v)) for op, v in _FILTER.findall(raw)]
    sort = request.query_params.get("sort") or ("updatedAt" if conds else "id")
    if sort not in ("id", "updatedAt"):
        raise HTTPException(400, f"sort must be 'id' or 'updatedAt', got {sort!r}")
    ops = {
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        "=": lambda a, b: a == b,
    }
    rows = ds.sorted_by(sort)
    for op, v in conds:
        fn = ops[op]
        rows = [r for r in rows if fn(r["updatedAtEpoch"], v)]
    return rows, sort


def _sort_key(sort: str) -> Any:
    if sort == "id":
        return lambda r: (r["id"],)
    return lambda r: (r["updatedAtEpoch"], r["id"])


def _encode_cursor(sort: str, row: dict[str, Any]) -> str:
    key = list(_sort_key(sort)(row))
    return base64.urlsafe_b64encode(json.dumps({"s": sort, "k": key}).encode()).decode().rstrip("=")


def _after(rows: list[dict[str, Any]], sort: str, cursor: str | None) -> list[dict[str, Any]]:
    if not cursor:
        return rows
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = tuple(decoded["k"])
    except (ValueError, KeyError, TypeError) as exc:
        raise HTTPException(400, f"cursor {cursor!r} is not a cursor this source issued") from exc
    if decoded.get("s") != sort:
        raise HTTPException(400, f"cursor was issued for sort={decoded.get('s')!r}, not sort={sort!r}")
    k = _sort_key(sort)
    return [r for r in rows if k(r) > key]


def _int(request: Request, name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise HTTPException(400, f"query parameter {name!r} must be an integer, got {raw!r}") from exc
    if value < lo or (hi is not None and value > hi):
        raise HTTPException(400, f"query parameter {name!r} must be in [{lo}, {hi or '∞'}], got {value}")
    return value


class Reset(BaseModel):
    seed: int | None = None
    count: int | None = Field(default=None, ge=0, le=1_000_000)
    ties: int | None = Field(default=None, ge=1)


def create_app(
    *,
    seed: int = 0,
    count: int = 250,
    ties: int = 3,
    default_page_size: int = 100,
    max_page_size: int = 1000,
    auth: AuthConfig | dict[str, Any] | None = None,
    fault_seed: int = 0,
) -> FastAPI:
    """``count`` records seeded from ``seed``; every ``ties`` consecutive records share one
    ``updatedAt``. Page sizes above ``max_page_size`` (Eloqua's 1000) get 400."""
    ds = Dataset()
    ds.seed(seed, count, ties)
    auth_cfg = AuthConfig.model_validate(auth or {})
    issuer = TokenIssuer()
    app = FastAPI(title="eventsync sandbox: paginated REST source")
    app.state.sandbox = ds
    limits = {"default": default_page_size, "max": max_page_size}

    def guard(request: Request) -> tuple[list[dict[str, Any]], str] | Response:
        reason = check(auth_cfg, request.headers, request.query_params, issuer)
        if reason is not None:
            return challenge(auth_cfg, reason)
        ds.apply_churn()
        return _filtered(ds, request)

    def size(request: Request, name: str) -> int:
        return _int(request, name, limits["default"], 1, limits["max"])

    @app.get("/api/page")
    async def by_page(request: Request) -> Any:
        got = guard(request)
        if isinstance(got, Response):
            return got
        rows, _ = got
        page, n = _int(request, "page", 1, 1), size(request, "count")
        return {
            "elements": _depth(
                rows[(page - 1) * n : page * n], request.query_params.get("depth", "complete")
            ),
            "page": page,
            "pageSize": n,
            "total": len(rows),
        }

    @app.get("/api/offset")
    async def by_offset(request: Request) -> Any:
        got = guard(request)
        if isinstance(got, Response):
            return got
        rows, _ = got
        offset, n = _int(request, "offset", 0, 0), size(request, "limit")
        items = rows[offset : offset + n]
        return {
            "items": items,
            "offset": offset,
            "limit": n,
            "total": len(rows),
            "hasMore": offset + n < len(rows),
        }

    @app.api_route("/api/cursor", methods=["GET", "POST"])
    async def by_cursor(request: Request) -> Any:
        got = guard(request)
        if isinstance(got, Response):
            return got
        rows, sort = got
        cursor = request.query_params.get("cursor")
        n = size(request, "limit")
        if request.method == "POST":
            body = await request.json() if await request.body() else {}
            if not isinstance(body, dict):
                raise HTTPException(400, "POST /api/cursor body must be a JSON object")
            cursor = body.get("cursor") or cursor
            if body.get("limit") is not None:
                n = int(body["limit"])
                if not 1 <= n <= limits["max"]:
                    raise HTTPException(400, f"body limit must be in [1, {limits['max']}], got {n}")
        rest = _after(rows, sort, cursor)
        page = rest[:n]
        nxt = _encode_cursor(sort, page[-1]) if len(rest) > n else None
        return {"data": page, "cursors": {"next": nxt}, "has_more": nxt is not None}

    @app.get("/api/next")
    async def by_next_url(request: Request) -> Any:
        got = guard(request)
        if isinstance(got, Response):
            return got
        rows, sort = got
        n = size(request, "limit")
        rest = _after(rows, sort, request.query_params.get("after"))
        page = rest[:n]
        nxt = None
        if len(rest) > n:
            params = _plain_params(request, ("after", "limit"))
            params += [("after", _encode_cursor(sort, page[-1])), ("limit", str(n))]
            nxt = str(request.url.replace(query=_keep_filter(request) + urlencode(params)))
        return {"results": page, "next": nxt}

    @app.get("/api/link")
    async def by_link(request: Request) -> Any:
        got = guard(request)
        if isinstance(got, Response):
            return got
        rows, _ = got
        page, n = _int(request, "page", 1, 1), size(request, "per_page")
        last = max(1, -(-len(rows) // n))
        params = _plain_params(request, ("page", "per_page"))

        def url(p: int) -> str:
            q = _keep_filter(request) + urlencode([*params, ("page", str(p)), ("per_page", str(n))])
            return str(request.url.replace(query=q))

        links = [f'<{url(1)}>; rel="first"', f'<{url(last)}>; rel="last"']
        if page < last:
            links.insert(0, f'<{url(page + 1)}>; rel="next"')
        if page > 1:
            links.insert(0, f'<{url(page - 1)}>; rel="prev"')
        return JSONResponse(
            rows[(page - 1) * n : page * n],
            headers={"Link": ", ".join(links), "X-Total-Count": str(len(rows))},
        )

    admin = APIRouter(prefix=ADMIN, tags=["sandbox admin"])

    @admin.post("/records")
    async def add_records(body: dict[str, Any] | list[dict[str, Any]]) -> dict[str, Any]:
        added = [ds.add(dict(f)) for f in (body if isinstance(body, list) else [body])]
        return {"added": added}

    @admin.patch("/records/{rid}")
    async def modify_record(rid: int, body: dict[str, Any]) -> dict[str, Any]:
        return ds.modify(rid, body)

    @admin.delete("/records/{rid}")
    async def delete_record(rid: int) -> dict[str, Any]:
        ds.version += 1
        if ds.records.pop(rid, None) is None:
            raise HTTPException(404, f"no record with id {rid}")
        return {"deleted": rid}

    @admin.get("/records")
    async def all_records() -> dict[str, Any]:
        return {"records": sorted(ds.records.values(), key=lambda r: r["id"])}

    @admin.put("/churn")
    async def set_churn(body: Churn) -> Churn:
        ds.churn = body
        ds.data_requests = 0
        return body

    @admin.put("/auth")
    async def set_auth(body: AuthConfig) -> dict[str, str]:
        nonlocal auth_cfg
        auth_cfg = body
        return {"kind": body.kind}

    @admin.post("/expire-tokens")
    async def expire_tokens() -> dict[str, int]:
        return {"expired": issuer.expire_all()}

    @admin.get("/state")
    async def state() -> dict[str, Any]:
        stamps = [r["updatedAtEpoch"] for r in ds.records.values()]
        return {
            "count": len(ds.records),
            "max_id": max(ds.records, default=0),
            "max_updated_at": iso(max(stamps)) if stamps else None,
            "data_requests": ds.data_requests,
            "churn": ds.churn.model_dump(),
        }

    @admin.post("/reset")
    async def reset(body: Reset | None = None) -> dict[str, Any]:
        body = body or Reset()
        ds.seed(
            seed if body.seed is None else body.seed,
            count if body.count is None else body.count,
            ties if body.ties is None else body.ties,
        )
        ds.churn = Churn()
        ds.data_requests = 0
        fault_state.rules.clear()
        return {"count": len(ds.records)}

    app.include_router(admin)
    install_token_endpoint(app, lambda: auth_cfg, issuer)
    fault_state = faults_mod.install(app, faults_mod.Faults(fault_seed))
    return app


def _keep_filter(request: Request) -> str:
    """Eloqua-style filters are bare query keys (``lastUpdatedAt>'x'`` with no '='), which
    parsed query params mangle; carry them into generated URLs verbatim."""
    kept = [p for p in request.url.query.split("&") if _FILTER.search(unquote(p.replace("+", " ")))]
    return "&".join(kept) + "&" if kept else ""


def _plain_params(request: Request, drop: tuple[str, ...]) -> list[tuple[str, str]]:
    return [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k not in drop and not _FILTER.search(k) and not _FILTER.search(v)
    ]


DEPTH_FIELDS = {
    "minimal": ("id", "updatedAt", "updatedAtEpoch", "email"),
    "partial": ("id", "updatedAt", "updatedAtEpoch", "email", "name", "tags"),
}


def _depth(rows: list[dict[str, Any]], depth: str) -> list[dict[str, Any]]:
    """Eloqua's ``depth``: minimal, partial or complete (the default) record shapes."""
    if depth == "complete":
        return rows
    keep = DEPTH_FIELDS.get(depth)
    if keep is None:
        raise HTTPException(400, f"depth must be minimal, partial or complete, got {depth!r}")
    return [{k: r[k] for k in keep if k in r} for r in rows]
