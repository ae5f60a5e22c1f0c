"""SOQL: the emulator's subset of SELECT ... FROM ... WHERE ... LIMIT, paged with `nextRecordsUrl`."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.salesforce.site import Site, err


def router(site: Site) -> APIRouter:
    settings, st = site.settings, site.st
    r = APIRouter()

    async def query(request: Request, version: str) -> Response:
        async def work() -> Response:
            q = request.query_params.get("q", "")
            try:
                sobject, fields, rows = run_soql(q)
            except SoqlError as exc:
                return err(400, "MALFORMED_QUERY", str(exc))
            batch = settings.query_batch_size
            opt = re.search(r"batchSize=(\d+)", request.headers.get("sforce-query-options", ""))
            if opt:
                batch = max(200, min(int(opt.group(1)), 2000, settings.query_batch_size))
            shaped = [
                {
                    "attributes": {
                        "type": sobject,
                        "url": f"/services/data/{version}/sobjects/{sobject}/{r['Id']}",
                    },
                    **{f: r.get(f) for f in fields},
                }
                for r in rows
            ]
            return page(version, "01g" + secrets.token_hex(6).upper(), shaped, 0, batch)

        return await site.guarded(request, version, work)

    def page(version: str, locator: str, rows: list[dict[str, Any]], start: int, batch: int) -> JSONResponse:
        chunk = rows[start : start + batch]
        done = start + batch >= len(rows)
        body: dict[str, Any] = {"totalSize": len(rows), "done": done, "records": chunk}
        if not done:
            st.cursors[locator] = rows
            body["nextRecordsUrl"] = f"/services/data/{version}/query/{locator}-{start + batch}"
        return JSONResponse(body)

    async def query_more(request: Request, version: str, cursor: str) -> Response:
        async def work() -> Response:
            locator, _, pos = cursor.rpartition("-")
            rows = st.cursors.get(locator)
            if rows is None or not pos.isdigit():
                return err(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            start = int(pos)
            opt = re.search(r"batchSize=(\d+)", request.headers.get("sforce-query-options", ""))
            batch = (
                settings.query_batch_size
                if not opt
                else max(200, min(int(opt.group(1)), 2000, settings.query_batch_size))
            )
            return page(version, locator, rows, start, batch)

        return await site.guarded(request, version, work)

    r.add_api_route("/services/data/{version}/query", query, methods=["GET"])
    r.add_api_route("/services/data/{version}/query/{cursor}", query_more, methods=["GET"])

    def run_soql(q: str) -> tuple[str, list[str], list[dict[str, Any]]]:
        m = re.fullmatch(
            r"\s*SELECT\s+(?P<f>.+?)\s+FROM\s+(?P<o>\w+)(?:\s+WHERE\s+(?P<w>.+?))?"
            r"(?:\s+ORDER\s+BY\s+(?P<ob>\w+)(?:\s+(?P<dir>ASC|DESC))?)?(?:\s+LIMIT\s+(?P<l>\d+))?\s*",
            q,
            re.IGNORECASE | re.DOTALL,
        )
        if not m:
            raise SoqlError(f"unexpected token in query: {q[:80]!r}")
        sobject = m.group("o")
        if sobject not in settings.schema:
            raise SoqlError(f"sObject type '{sobject}' is not supported.")
        allowed = {
            "Id",
            "CreatedDate",
            "LastModifiedDate",
            "SystemModstamp",
            *settings.schema[sobject]["fields"],
        }
        fields = [f.strip() for f in m.group("f").split(",")]
        bad = [f for f in fields if f not in allowed]
        if bad:
            raise SoqlError(f"No such column '{bad[0]}' on entity '{sobject}'.")
        rows = list(site.table(sobject).values())
        if m.group("w"):
            for cond in re.split(r"\s+AND\s+", m.group("w"), flags=re.IGNORECASE):
                c = re.fullmatch(r"\s*(\w+)\s*(=|!=|>=|<=|>|<)\s*('(?:[^']*)'|[\w:.+-]+)\s*", cond)
                if not c or c.group(1) not in allowed:
                    raise SoqlError(f"unexpected condition: {cond!r}")
                name, op, lit = c.group(1), c.group(2), c.group(3).strip("'")
                rows = [r for r in rows if _compare(r.get(name), op, lit)]
        if m.group("ob"):
            rows.sort(
                key=lambda r: str(r.get(m.group("ob")) or ""),
                reverse=(m.group("dir") or "").upper() == "DESC",
            )
        if m.group("l"):
            rows = rows[: int(m.group("l"))]
        return sobject, fields, rows

    return r


class SoqlError(Exception):
    pass


def _compare(value: Any, op: str, lit: str) -> bool:
    if lit.lower() == "null":
        return (value is None) == (op == "=")
    left: Any = "" if value is None else str(value)
    right: Any = lit
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T.*", lit) and value:
        left = datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.000+0000").replace(tzinfo=UTC)
        right = datetime.fromisoformat(lit.replace("Z", "+00:00"))
    ops = {
        "=": left == right,
        "!=": left != right,
        ">": left > right,
        "<": left < right,
        ">=": left >= right,
        "<=": left <= right,
    }
    return bool(ops[op])
