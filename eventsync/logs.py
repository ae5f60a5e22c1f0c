"""Structured JSON logs: one object per line, with the Temporal workflow and run ids when the
record comes from a workflow or activity logger, the trace id when a span is current, and
never a secret (the redaction filter scrubs Authorization headers, bearer tokens, and
token/secret/password fields from messages, arguments and extras).

`configure(fmt="json")` installs both on the root logger; `EVENTSYNC_LOG_FORMAT` and
`EVENTSYNC_LOG_LEVEL` choose them for the CLI's long-running commands.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from opentelemetry import trace

FORMAT_ENV = "EVENTSYNC_LOG_FORMAT"
LEVEL_ENV = "EVENTSYNC_LOG_LEVEL"
REDACTED = "[REDACTED]"

# A key that names a secret: Authorization, X-API-Key, X-Auth-Token, client_secret, sessionid…
_SECRET_NAME = (
    r"[\w-]*(?:authorization|token|secret|password|passwd|api[_-]?key|apikey|session[_-]?id|"
    r"sessid|sid|signature)[\w-]*"
)
_PATTERNS = [
    # Authorization: Bearer xyz / Basic xyz (as a header line, a dict repr or JSON)
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(?:bearer|basic|token)?\s*[^'\",\s}]+"),
    re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{4,}"),
    # Cookie / Set-Cookie headers: every value to the end of the line
    re.compile(r"(?im)((?:set-)?cookie['\"]?\s*[:=]\s*['\"]?)[^'\"\n]+"),
    # key=value / "key": "value" / X-Api-Key: value for secret-ish keys (query strings, form
    # bodies, JSON, reprs, header lines); a list value ['a', 'b'] is replaced whole
    re.compile(
        r"(?i)((?:" + _SECRET_NAME + r")['\"]?\s*[:=]\s*)\[[^\]]*\]"
    ),
    re.compile(r"(?i)(\b" + _SECRET_NAME + r"['\"]?\s*[:=]\s*['\"]?)[^'\"&,;\s}\]]+"),
    # user:password@host in a URL
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+(?=@)"),
]
_SECRET_KEYS = re.compile(r"(?i)(authorization|token|secret|password|passwd|api_?key|cookie|session)")

# Query parameters whose values are secrets wherever a URL is recorded (spans, logs, errors).
SECRET_PARAMS = frozenset(
    {
        "client_secret",
        "api_key",
        "apikey",
        "access_token",
        "refresh_token",
        "id_token",
        "token",
        "password",
        "key",
        "signature",
        "sig",
        "code",
    }
)
_extra_params: set[str] = set()


def register_secret_params(names: Iterable[str]) -> None:
    """Also redact these query parameters (a connection's own API-key parameter)."""
    _extra_params.update(n.lower() for n in names)


def redact_url(url: str, extra: Iterable[str] = ()) -> str:
    """`url` with user:password and secret query values replaced (structure kept for debugging)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}:{REDACTED}@{host}" if ":" in userinfo else netloc
    secret = SECRET_PARAMS | _extra_params | {e.lower() for e in extra}
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, REDACTED if k.lower() in secret or _SECRET_KEYS.search(k) else v) for k, v in pairs],
            safe="[]",
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def _redact_value(key: str, value: Any) -> Any:
    if _SECRET_KEYS.search(key) and isinstance(value, str | bytes | list | tuple | dict):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(key, v) for v in value]
    return value


def escape_controls(text: str) -> str:
    """Newlines and other control characters as escapes: one record is one line, and vendor or
    attacker text cannot forge log lines or drive a terminal."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


class TextFormatter(logging.Formatter):
    """The text format: redacted (tracebacks too) and one line per record."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(redact(super().format(record)))


class RedactingFilter(logging.Filter):
    """Scrubs secrets from a record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS:
                record.__dict__[key] = _redact_value(key, value)
        return True


_STANDARD_ATTRS = frozenset(logging.LogRecord("x", 0, "x", 0, "x", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        # temporalio's workflow and activity loggers attach their info dicts as extras.
        wf = getattr(record, "temporal_workflow", None)
        act = getattr(record, "temporal_activity", None)
        if isinstance(wf, dict):
            out["workflow_id"] = wf.get("workflow_id")
            out["run_id"] = wf.get("run_id")
            out["workflow_type"] = wf.get("workflow_type")
            out["task_queue"] = wf.get("task_queue")
        if isinstance(act, dict):
            out["workflow_id"] = act.get("workflow_id")
            out["run_id"] = act.get("workflow_run_id")
            out["workflow_type"] = act.get("workflow_type")
            out["activity_id"] = act.get("activity_id")
            out["activity_type"] = act.get("activity_type")
            out["attempt"] = act.get("attempt")
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            out["trace_id"] = format(ctx.trace_id, "032x")
            out["span_id"] = format(ctx.span_id, "016x")
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in ("temporal_workflow", "temporal_activity"):
                out.setdefault(key, value)
        if record.exc_info:
            out["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps({k: v for k, v in out.items() if v is not None}, default=str)


def configure(fmt: str | None = None, level: str | None = None) -> None:
    """Root logging for a long-running process: JSON (default) or text, always redacted."""
    fmt = (fmt or os.environ.get(FORMAT_ENV) or "json").lower()
    if fmt not in ("json", "text"):
        raise ValueError(f"{FORMAT_ENV}={fmt!r}: expected json or text")
    level_name = (level or os.environ.get(LEVEL_ENV) or "INFO").upper()
    if level_name not in logging.getLevelNamesMapping():
        raise ValueError(f"{LEVEL_ENV}={level_name!r} is not a logging level")
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_name)
    # httpx logs every request line at INFO, URLs with query strings included.
    logging.getLogger("httpx").setLevel(logging.WARNING)
