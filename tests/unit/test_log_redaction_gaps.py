"""Issue 13 Low list and item 7: the redaction gaps the review found, each closed."""

from __future__ import annotations

import io
import logging

from eventsync.logs import REDACTED, RedactingFilter, TextFormatter, redact, redact_url


def test_header_style_keys_urls_cookies_and_session_ids() -> None:
    assert "k-123" not in redact("headers: {'X-API-Key': 'k-123'}")
    assert "t-9" not in redact("X-Auth-Token: t-9")
    assert "hunter2" not in redact("GET https://jane:hunter2@api.example.com/x failed")
    assert "jane" in redact("https://jane:hunter2@api.example.com/x")  # the user stays
    assert "abc" not in redact("Cookie: sid=abc; theme=dark") and "dark" not in redact(
        "Cookie: sid=abc; theme=dark"
    )
    assert "s-77" not in redact("set-cookie: session=s-77")
    assert "s-1" not in redact("sessionid=s-1&page=2") and "page=2" in redact("sessionid=s-1&page=2")
    assert "a1" not in redact("api_key: ['a1', 'b2']") and "b2" not in redact("api_key: ['a1', 'b2']")


def test_urls_keep_their_shape_with_secret_values_replaced() -> None:
    url = "https://x.mktorest.com/identity/oauth/token?grant_type=client_credentials&client_id=id&client_secret=s3"
    clean = redact_url(url)
    assert (
        "s3" not in clean
        and "client_id=id" in clean
        and f"client_secret={REDACTED}" in clean.replace("%5B", "[").replace("%5D", "]")
    )
    assert "own-9" not in redact_url("https://a.example/p?hapikey=own-9", extra=["hapikey"])
    assert "pw" not in redact_url("https://u:pw@a.example/p")


def _text_log(record_args: tuple[object, ...], exc: BaseException | None = None) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(TextFormatter())
    log = logging.getLogger(f"redaction-test-{id(out)}")
    log.propagate = False
    log.addHandler(handler)
    try:
        if exc is not None:
            try:
                raise exc
            except BaseException:
                log.exception("call failed %s", *record_args)
        else:
            log.warning("vendor said %s", *record_args)
    finally:
        log.removeHandler(handler)
    return out.getvalue()


def test_text_tracebacks_are_redacted_and_newlines_escaped() -> None:
    line = _text_log(("ok\n2026-01-01 INFO forged line",))
    assert line.count("\n") == 1 and "\\n2026-01-01 INFO forged line" in line
    text = _text_log(("x",), RuntimeError("Authorization: Bearer tok-secret-1"))
    assert "tok-secret-1" not in text and "RuntimeError" in text
    assert text.count("\n") == 1  # the traceback is on the record's one line, escaped
