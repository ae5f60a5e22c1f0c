"""Metrics reach the installed readers; the Prometheus endpoint serves them; bad config is named."""

from __future__ import annotations

import httpx
import pytest

from eventsync import telemetry
from sandbox.serving import free_port
from tests.support.otel import captured, metric_points


def test_flow_and_fetch_metrics_are_recorded() -> None:
    captured()
    telemetry.record_event("telemetry-probe")
    telemetry.record_decision("telemetry-probe", "skip", "tag rule 'vip' did not match")
    telemetry.record_delivery("telemetry-probe", "salesforce", "ok")
    telemetry.record_delivery_latency("telemetry-probe", "salesforce", 0.25)
    telemetry.observe_parked(lambda: {"telemetry-probe": 1})
    telemetry.record_fetch_page("telemetry-probe-fetch", 500)
    telemetry.record_rate_limit_wait("telemetry-probe-dest", 1.5)
    assert ({"flow": "telemetry-probe", "source": "webhook"}, 1.0) in metric_points(
        "eventsync.events.received"
    )
    assert (
        {"flow": "telemetry-probe", "decision": "skip", "reason": "tag rule 'vip' did not match"},
        1.0,
    ) in metric_points("eventsync.decisions")
    assert ({"flow": "telemetry-probe"}, 1.0) in metric_points("eventsync.parked")
    telemetry.observe_parked(lambda: {})  # its queue emptied: 0, not a vanished series
    assert ({"flow": "telemetry-probe"}, 0.0) in metric_points("eventsync.parked")
    telemetry.observe_parked(None)
    assert ({"fetch": "telemetry-probe-fetch"}, 500.0) in metric_points("eventsync.fetch.records")
    # Other tests in this process deliver too; this flow name is this test's own.
    [latency_sum] = [
        v
        for attrs, v in metric_points("eventsync.delivery.latency")
        if attrs.get("flow") == "telemetry-probe"
    ]
    assert latency_sum == pytest.approx(0.25)
    assert ({"destination": "telemetry-probe-dest"}, 1.0) in metric_points("eventsync.rate_limit.waits")


def test_prometheus_endpoint_serves_metrics() -> None:
    port = free_port()
    installed = telemetry.setup(
        "prom-test",
        environ={"EVENTSYNC_PROMETHEUS_PORT": str(port), "EVENTSYNC_PROMETHEUS_HOST": "127.0.0.1"},
        set_global=False,
        instrument_httpx=False,
    )
    try:
        assert installed.exporters == [f"metrics:prometheus:{port}"]
        counter = installed.meter_provider.get_meter("eventsync").create_counter("eventsync.deliveries")
        counter.add(3, {"flow": "regs", "destination": "marketo", "outcome": "ok"})
        body = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        [line] = [ln for ln in body.splitlines() if ln.startswith("eventsync_deliveries_total{")]
        assert 'destination="marketo",flow="regs"' in line and 'outcome="ok"' in line
        assert line.endswith(" 3.0")
    finally:
        installed.shutdown()


def test_bad_prometheus_port_is_named() -> None:
    with pytest.raises(ValueError, match="EVENTSYNC_PROMETHEUS_PORT='abc'"):
        telemetry.setup("x", environ={"EVENTSYNC_PROMETHEUS_PORT": "abc"}, set_global=False)


def test_otlp_is_enabled_by_standard_env() -> None:
    installed = telemetry.setup(
        "x",
        environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
        set_global=False,
        instrument_httpx=False,
    )
    assert installed.exporters == ["spans:otlp", "metrics:otlp"]
    installed.meter_provider.shutdown(timeout_millis=100)
