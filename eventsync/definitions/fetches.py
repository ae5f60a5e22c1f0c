"""API Fetch definitions: poll a REST source page by page, transform each record with Jolt,
apply it to a target, and remember how far it got (docs/fetch.md).

Field names follow the dlt `rest_api` / Airbyte low-code vocabulary where one exists, so that a
user of either finds their way.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from eventsync.definitions.common import Name, Strict
from eventsync.fetch.templating import names

Scalar = str | int | float | bool


class Request(Strict):
    """The source request. `path`, `query` values, `headers` values and string leaves of `body` are
    templates: `{{name}}` is replaced by a variable (static, `page`/`offset`/`limit`/`cursor`
    from the paginator, or the checkpoint variable)."""

    connection: Name = Field(description="the source connection (secrets stay in the connection)")
    method: Literal["GET", "POST"] = "GET"
    path: str = Field(
        description="path relative to the connection's base URL (or an absolute URL); may hold a "
        "query string, e.g. /api/REST/1.0/data/contacts?lastUpdatedAt>'{{C_DateModified}}'&page={{page}}"
    )
    query: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, Any] | None = None


class NoPagination(Strict):
    style: Literal["none"] = "none"


class PageNumberPagination(Strict):
    """`page` variable = base, base+1, …; stops on a short/empty page, on `total_path`, or on max pages."""

    style: Literal["page_number"] = "page_number"
    base: int = Field(default=1, description="the first page's number (Eloqua: 1, dlt's default: 0)")
    size: int = Field(default=100, ge=1, le=100_000, description="records per page, as the `count` variable")
    page_param: str | None = Field(
        default=None,
        description="query parameter for the page number (omit when the path template holds {{page}})",
    )
    size_param: str | None = Field(default=None, description="query parameter for the page size")
    total_path: str | None = Field(default=None, description="JSONPath to the total number of *records*")
    stop_on_short_page: bool = Field(
        default=True, description="a page with fewer than `size` records is the last"
    )


class OffsetPagination(Strict):
    """`offset` variable = 0, limit, 2×limit, …. On data that changes during a run an offset can
    skip records (a deletion shifts rows back): see `safe_mode` and docs/fetch.md."""

    style: Literal["offset"] = "offset"
    limit: int = Field(default=100, ge=1, le=100_000)
    offset_param: str | None = "offset"
    limit_param: str | None = "limit"
    total_path: str | None = Field(default=None, description="JSONPath to the total number of records")
    stop_on_short_page: bool = True
    safe_mode: bool = Field(
        default=False,
        description="keyset instead of offset: each page restarts at offset 0 with the checkpoint "
        "variable set to the last page's high-water mark (needs an ascending-sorted checkpoint)",
    )


class CursorPagination(Strict):
    """A token from the body (`cursor_path`) sent back as `cursor_param` or into the body."""

    style: Literal["cursor"] = "cursor"
    cursor_path: str = Field(description="JSONPath in the response body, e.g. $.cursors.next")
    cursor_param: str | None = Field(default="cursor", description="query parameter for the token")
    cursor_body_path: str | None = Field(
        default=None, description="dotted key in the JSON body for the token"
    )
    has_more_path: str | None = Field(default=None, description="JSONPath to a boolean; false ends the run")


class NextUrlPagination(Strict):
    style: Literal["next_url"] = "next_url"
    next_url_path: str = Field(default="$.next", description="JSONPath to the next page's URL in the body")


class LinkHeaderPagination(Strict):
    """RFC 5988 `Link: <url>; rel="next"`."""

    style: Literal["link_header"] = "link_header"
    rel: str = "next"


Pagination = Annotated[
    NoPagination
    | PageNumberPagination
    | OffsetPagination
    | CursorPagination
    | NextUrlPagination
    | LinkHeaderPagination,
    Field(discriminator="style"),
]


class Checkpoint(Strict):
    """Incremental sync: the high-water mark of `field` over the records applied so far.

    A run asks the source for records from the committed checkpoint on. When the source's filter
    is `>` the engine sends the checkpoint minus `step` so that records sharing the boundary value
    are read again rather than skipped; re-applying them is harmless (the target upserts).
    """

    field: str = Field(description="JSONPath of the cursor field in a source record, e.g. $.updatedAt")
    type: Literal["datetime", "number", "string"] = "datetime"
    variable: str = Field(default="checkpoint", description="the template variable holding the checkpoint")
    initial: Scalar = Field(
        description='value used on the first run ("epoch and first run"): 0, an ISO date, a number…'
    )
    format: Literal["iso", "epoch", "epoch_ms"] | str = Field(
        default="iso",
        description="how a datetime checkpoint is written into the request: iso, epoch (seconds), "
        "epoch_ms, or a strftime pattern",
    )
    operator: Literal[">", ">="] = Field(default=">=", description="the source filter's comparison")
    step: float = Field(
        default=1.0,
        gt=0,
        description="smallest difference between two values (seconds for datetimes); used with '>'",
    )
    lookback: float = Field(
        default=0.0, ge=0, description="re-read this much before the checkpoint (seconds for datetimes)"
    )
    sorted: bool = Field(
        default=False,
        description="the source returns records in ascending order of `field`: the checkpoint then "
        "commits after every page, otherwise only when the last page is applied",
    )


class Lookup(Strict):
    """ADD REST LOOKUP: a second call per record whose response is stored under `into`."""

    connection: Name | None = Field(default=None, description="defaults to the source connection")
    path: str = Field(
        description="template; `{{record.<field>}}` reads the record, e.g. /contacts/{{record.id}}"
    )
    into: str = Field(description="key the response body is stored under in the record")
    select: str | None = Field(default=None, description="JSONPath applied to the response before storing it")
    concurrency: int = Field(default=4, ge=1, le=32)


class PlatformBulkUpsert(Strict):
    """Bulk Registration Upsert into one platform event, matching existing registrations by `match_key`."""

    kind: Literal["platform_bulk_upsert"] = "platform_bulk_upsert"
    connection: Name
    account: str
    event: str
    match_key: Literal["email", "externalKey", "pin"] = "email"
    chunk_size: int = Field(default=200, ge=1, le=5000)


class HttpTarget(Strict):
    """A generic HTTP target: each chunk is sent as a JSON array (or under `wrap_key`)."""

    kind: Literal["http"] = "http"
    connection: Name
    method: Literal["POST", "PUT"] = "POST"
    path: str
    wrap_key: str | None = Field(
        default=None, description="send {wrap_key: [records]} instead of a bare array"
    )
    chunk_size: int = Field(default=200, ge=1, le=5000)


Target = Annotated[PlatformBulkUpsert | HttpTarget, Field(discriminator="kind")]


class Schedule(Strict):
    cron: str | None = Field(default=None, description="cron expression, e.g. '*/15 * * * *'")
    every_s: float | None = Field(default=None, gt=0, description="interval in seconds")
    time_zone: str = "UTC"
    jitter_s: float = Field(default=0.0, ge=0)
    paused: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> Schedule:
        if (self.cron is None) == (self.every_s is None):
            raise ValueError("a schedule has exactly one of `cron` or `every_s`")
        return self


class Limits(Strict):
    request_timeout_s: float = Field(default=30.0, gt=0, le=600)
    page_timeout_s: float = Field(default=300.0, gt=0, description="fetch + transform + apply of one page")
    heartbeat_timeout_s: float = Field(
        default=30.0, gt=0, description="a worker silent this long is presumed dead"
    )
    run_time_limit_s: float | None = Field(
        default=None,
        gt=0,
        description='"pagination time limit": the run ends cleanly after this, checkpoint saved',
    )
    max_pages: int | None = Field(default=None, ge=1, description="pages per run; the next run continues")
    pages_per_activity: int = Field(
        # The activity heartbeats its committed position after each page, so a longer group does
        # not widen the crash bound (the page being applied, and the one read ahead); it saves a
        # workflow round trip per page. 1 turns the read-ahead off.
        default=50,
        ge=1,
        le=1000,
        description="pages one activity reads and applies in a row, fetching the next page while the "
        "current one is transformed and applied; a crashed worker re-applies at most the page it was "
        "applying (its heartbeat holds the committed position)",
    )


class Retry(Strict):
    initial_interval_s: float = Field(default=1.0, gt=0)
    maximum_interval_s: float = Field(default=60.0, gt=0)
    maximum_attempts: int = Field(default=8, ge=1, description="then the run parks until resumed")


class FetchDefinition(Strict):
    name: Name
    request: Request
    variables: dict[str, Scalar] = Field(default_factory=dict, description="static template variables")
    pagination: Pagination = Field(default_factory=NoPagination)
    records: str = Field(default="$[*]", description="JSONPath selecting the records in a response body")
    checkpoint: Checkpoint | None = None
    lookups: list[Lookup] = Field(default_factory=list)
    transform: list[dict[str, Any]] = Field(
        default_factory=list, description="Jolt chain applied to each record (empty: records pass unchanged)"
    )
    target: Target
    schedule: Schedule | None = Field(
        default=None, description="none: run only by hand (`eventsync fetch run`)"
    )
    limits: Limits = Field(default_factory=Limits)
    retry: Retry = Field(default_factory=Retry)

    def template_variables(self) -> set[str]:
        """The variables a request template may name: the static ones, the checkpoint's, and
        those of the pagination style (eventsync/fetch/pagination.py sets them)."""
        known = set(self.variables)
        if self.checkpoint is not None:
            known.add(self.checkpoint.variable)
        p = self.pagination
        if isinstance(p, PageNumberPagination):
            known |= {"page", "count"}
        elif isinstance(p, OffsetPagination):
            known |= {"offset", "limit"}
        elif isinstance(p, CursorPagination):
            known.add("cursor")
        return known

    def _check_template_variables(self) -> None:
        known = self.template_variables()
        req = self.request
        templates: list[tuple[str, str, set[str]]] = [("request.path", req.path, known)]
        templates += [(f"request.query.{k}", v, known) for k, v in req.query.items()]
        templates += [(f"request.headers.{k}", v, known) for k, v in req.headers.items()]

        def leaves(where: str, value: Any) -> None:
            if isinstance(value, str):
                templates.append((where, value, known))
            elif isinstance(value, dict):
                for k, v in value.items():
                    leaves(f"{where}.{k}", v)
            elif isinstance(value, list):
                for i, v in enumerate(value):
                    leaves(f"{where}[{i}]", v)

        if req.body is not None:
            leaves("request.body", req.body)
        templates += [
            (f"lookups[{i}].path", lk.path, set(self.variables)) for i, lk in enumerate(self.lookups)
        ]
        for where, template, allowed in templates:
            for name in sorted(names(template)):
                if name in allowed or (where.startswith("lookups") and name.startswith("record.")):
                    continue
                close = difflib.get_close_matches(name, sorted(allowed), n=1, cutoff=0.6)
                hint = f"; did you mean {{{{{close[0]}}}}}?" if close else ""
                raise ValueError(
                    f"{where}: unknown template variable {{{{{name}}}}}{hint} "
                    f"(known here: {', '.join(sorted(allowed)) or 'none'}"
                    f"{'; and record.<field>' if where.startswith('lookups') else ''})"
                )

    @model_validator(mode="after")
    def _coherent(self) -> FetchDefinition:
        p = self.pagination
        if isinstance(p, OffsetPagination) and p.safe_mode:
            if self.checkpoint is None or not self.checkpoint.sorted:
                raise ValueError(
                    "pagination.safe_mode needs a checkpoint with `sorted: true`: keyset paging walks "
                    "the source in ascending checkpoint order"
                )
        if isinstance(p, CursorPagination) and p.cursor_param is None and p.cursor_body_path is None:
            raise ValueError("cursor pagination needs `cursor_param` or `cursor_body_path`")
        if self.checkpoint and self.checkpoint.type == "string" and self.checkpoint.operator == ">":
            raise ValueError(
                "a string checkpoint cannot be stepped back for a '>' filter: use operator '>=' "
                "(records at the boundary would otherwise be skipped)"
            )
        self._check_template_variables()
        return self
