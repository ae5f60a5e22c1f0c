"""JSON logs never carry a secret: headers, bearer tokens and token fields are scrubbed."""

from __future__ import annotations

import io
import json
import logging

import pytest

from eventsync.logs import REDACTED, JsonFormatter, RedactingFilter, configure, redact

SECRET = "s3cr3t-VALUE-123"


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {SECRET}",
        f"headers={{'authorization': 'Basic {SECRET}'}}",
        f'{{"Authorization": "Bearer {SECRET}"}}',
        f"calling with bearer {SECRET}",
        f"POST /token body=grant_type=client_credentials&client_secret={SECRET}&x=1",
        f'{{"access_token": "{SECRET}", "expires_in": 3600}}',
        f"https://api.example.com/rest?access_token={SECRET}",
        f"password={SECRET}",
    ],
)
def test_redact(text: str) -> None:
    out = redact(text)
    assert SECRET not in out and REDACTED in out


def _logger() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(f"test-logs-{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_json_lines_redact_args_extras_and_exceptions() -> None:
    logger, stream = _logger()
    logger.info("token refresh for %s gave %s", "crm", {"access_token": SECRET})
    logger.info("call", extra={"api_key": SECRET, "headers": {"Authorization": f"Bearer {SECRET}"}, "n": 3})
    try:
        raise RuntimeError(f"server said Authorization: Bearer {SECRET} is bad")
    except RuntimeError:
        logger.exception("failed")
    text = stream.getvalue()
    assert SECRET not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["message"].startswith("token refresh for crm gave")
    assert lines[1]["api_key"] == REDACTED and lines[1]["n"] == 3
    assert lines[1]["headers"] == {"Authorization": REDACTED}
    assert "RuntimeError" in lines[2]["exception"] and lines[2]["level"] == "error"


def test_temporal_info_becomes_workflow_and_run_ids() -> None:
    logger, stream = _logger()
    logger.info(
        "delivered",
        extra={
            "temporal_activity": {
                "workflow_id": "wf-1",
                "workflow_run_id": "run-1",
                "activity_type": "deliver",
            }
        },
    )
    logger.info("decided", extra={"temporal_workflow": {"workflow_id": "wf-2", "run_id": "run-2"}})
    a, w = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (a["workflow_id"], a["run_id"], a["activity_type"]) == ("wf-1", "run-1", "deliver")
    assert (w["workflow_id"], w["run_id"]) == ("wf-2", "run-2")


def test_configure_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="expected json or text"):
        configure("xml")
