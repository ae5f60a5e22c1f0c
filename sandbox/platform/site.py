"""What every platform router shares: the store, the webhook dispatcher, the settings that shape
answers (page sizes, `start_index` meaning, the bulk limit), the collection envelope and the
request helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from sandbox import faults as faults_mod
from sandbox.platform.store import ApiError, Store
from sandbox.platform.webhooks import Dispatcher

API = "/certainExternal/service/v1"
ADMIN = faults_mod.ADMIN_PREFIX
ALL_INCLUDES = {"tags", "registration_questions", "reg_properties"}


def int_param(request: Request, name: str, default: int, lo: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(400, f"query parameter {name!r} must be an integer, got {raw!r}") from exc
    if value < lo:
        raise ApiError(400, f"query parameter {name!r} must be >= {lo}, got {value}")
    return value


def includes(request: Request) -> set[str]:
    raw = request.query_params.get("includeList") or request.query_params.get("include_list") or ""
    parts = {p.strip() for p in raw.split(",") if p.strip()}
    return ALL_INCLUDES if "all" in parts else parts


async def read_json(request: Request, what: str) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, f"{what}: request body is not valid JSON ({exc})") from exc


def body_obj(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, f"{what}: request body must be a JSON object")
    return body


@dataclass
class PlatformSite:
    """One emulated platform: what the routers of `create_app` close over."""

    store: Store
    dispatcher: Dispatcher
    knobs: faults_mod.Faults
    emit: Callable[..., None]
    default_max_results: int
    max_results_limit: int
    start_index_mode: str
    bulk_max_records: int

    def envelope(
        self, request: Request, items: list[Any], name: str, view: Callable[[Any], Any]
    ) -> JSONResponse:
        max_results = min(
            int_param(request, "max_results", self.default_max_results, 1), self.max_results_limit
        )
        if self.start_index_mode == "offset":
            start = int_param(request, "start_index", 0, 0)
        else:
            start = (int_param(request, "start_index", 1, 1) - 1) * max_results
        chunk = items[start : start + max_results]
        if not chunk:
            return JSONResponse({"statusCode": 404, "message": "No records found"}, status_code=404)
        return JSONResponse(
            {
                "completeCollectionSize": len(items),
                "size": len(chunk),
                "startingIndex": start if self.start_index_mode == "offset" else start // max_results + 1,
                "maxResults": max_results,
                name: [view(x) for x in chunk],
            }
        )
