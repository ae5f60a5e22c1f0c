"""Traces and metrics on the plain OpenTelemetry API.

Instruments are created at import from the global meter/tracer *proxies*, so library code
records unconditionally and pays nothing until a process calls `setup()` (the worker, the
receivers, the codec server do; tests install their own providers). Exporters are chosen by
environment, never by code:

- Prometheus: `EVENTSYNC_PROMETHEUS_PORT` (and `EVENTSYNC_PROMETHEUS_HOST`, default 0.0.0.0)
  serves /metrics from the process.
- OTLP/HTTP: the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or the per-signal
  `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `..._METRICS_ENDPOINT`) exports spans and metrics.
- `OTEL_SERVICE_NAME` overrides the service name given by the caller.

Attribute values are names (flow, fetch, destination, reason, outcome), never record data.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import metrics, trace

METER_NAME = "eventsync"
PROMETHEUS_PORT_ENV = "EVENTSYNC_PROMETHEUS_PORT"
PROMETHEUS_HOST_ENV = "EVENTSYNC_PROMETHEUS_HOST"
OTLP_ENV = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
OTLP_METRICS_ENV = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")

_meter = metrics.get_meter(METER_NAME)
tracer = trace.get_tracer(METER_NAME)
# Every instrument's name and kind, for the dashboards (deploy/grafana) and their test.
METRICS: dict[str, str] = {}


def _counter(name: str, **kw: Any) -> metrics.Counter:
    METRICS[name] = "counter"
    return _meter.create_counter(name, **kw)


def _gauge(name: str, **kw: Any) -> metrics.ObservableGauge:
    METRICS[name] = "gauge"
    return _meter.create_observable_gauge(name, **kw)


def _histogram(name: str, **kw: Any) -> metrics.Histogram:
    METRICS[name] = "histogram"
    return _meter.create_histogram(name, **kw)


# Signal flows (webhook → decision → delivery).
events_received = _counter(
    "eventsync.events.received",
    unit="{event}",
    description="Events accepted by a receiver, by flow and source",
)
decisions = _counter(
    "eventsync.decisions", unit="{decision}", description="Flow decisions (send/skip/park) by flow and reason"
)
deliveries = _counter(
    "eventsync.deliveries",
    unit="{delivery}",
    description="Destination deliveries by flow, destination and outcome (ok, rejected, failed)",
)
# The retry queue is read from the event store when metrics are collected, not counted up and
# down by the process that parked or retried: a restarted worker, or one that did not do the
# parking, still shows what is parked. Every worker shows the same store: take max, not sum.
_parked_reader: Callable[[], Mapping[str, int]] | None = None
_parked_flows: set[str] = set()


def _observe_parked(_options: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
    reader = _parked_reader
    if reader is None:
        return []
    try:
        counts = dict(reader())
    except Exception:  # noqa: BLE001 - the store is down: no point this time rather than a false 0
        return []
    _parked_flows.update(counts)  # a flow whose queue emptied shows 0, not nothing
    return [metrics.Observation(counts.get(flow, 0), {"flow": flow}) for flow in sorted(_parked_flows)]


parked = _gauge(
    "eventsync.parked",
    callbacks=[_observe_parked],
    unit="{record}",
    description="Records waiting in the retry queue, by flow (read from the event store)",
)
delivery_latency = _histogram(
    "eventsync.delivery.latency",
    unit="s",
    description="From event received to delivered, by flow and destination",
)
# API fetches.
fetch_pages = _counter("eventsync.fetch.pages", unit="{page}", description="Pages read, by fetch")
fetch_records = _counter("eventsync.fetch.records", unit="{record}", description="Records read, by fetch")
fetch_duration = _histogram(
    "eventsync.fetch.duration", unit="s", description="Whole fetch run duration, by fetch and outcome"
)
# The HTTP core.
http_requests = _counter(
    "eventsync.http.requests", unit="{request}", description="Outbound calls by connection and outcome"
)
http_duration = _histogram(
    "eventsync.http.duration", unit="s", description="Outbound call duration by connection and outcome"
)
rate_limit_waits = _counter(
    "eventsync.rate_limit.waits", unit="{wait}", description="Calls held back by a rate limit, by destination"
)
rate_limit_wait_seconds = _histogram(
    "eventsync.rate_limit.wait", unit="s", description="Time held back by a rate limit, by destination"
)


def record_event(flow: str, source: str = "webhook") -> None:
    events_received.add(1, {"flow": flow, "source": source})


def record_decision(flow: str, decision: str, reason: str) -> None:
    decisions.add(1, {"flow": flow, "decision": decision, "reason": reason})


def record_delivery(flow: str, destination: str, outcome: str) -> None:
    deliveries.add(1, {"flow": flow, "destination": destination, "outcome": outcome})


def record_delivery_latency(flow: str, destination: str, seconds: float) -> None:
    delivery_latency.record(seconds, {"flow": flow, "destination": destination})


def observe_parked(reader: Callable[[], Mapping[str, int]] | None) -> None:
    """Where the `eventsync.parked` gauge reads its counts ({flow: parked records}); None: nowhere."""
    global _parked_reader
    _parked_reader = reader


def record_fetch_page(fetch: str, records: int) -> None:
    fetch_pages.add(1, {"fetch": fetch})
    fetch_records.add(records, {"fetch": fetch})


def record_rate_limit_wait(destination: str, seconds: float) -> None:
    rate_limit_waits.add(1, {"destination": destination})
    rate_limit_wait_seconds.record(seconds, {"destination": destination})


@contextmanager
def span(name: str, attributes: Mapping[str, Any] | None = None) -> Iterator[trace.Span]:
    with tracer.start_as_current_span(name, attributes=dict(attributes or {})) as s:
        yield s


@dataclass
class Telemetry:
    """What `setup()` installed, so a process (or a test) can flush and shut it down."""

    tracer_provider: Any
    meter_provider: Any
    prometheus_port: int | None = None
    exporters: list[str] = field(default_factory=list)

    def shutdown(self) -> None:
        self.meter_provider.shutdown()
        self.tracer_provider.shutdown()


def setup(
    service_name: str,
    *,
    environ: Mapping[str, str] | None = None,
    span_exporter: Any = None,
    metric_readers: list[Any] | None = None,
    set_global: bool = True,
    instrument_httpx: bool = True,
) -> Telemetry:
    """Install tracer and meter providers with the exporters the environment asks for.

    `span_exporter` / `metric_readers` add exporters in code (tests use in-memory ones).
    """
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    env = os.environ if environ is None else environ
    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or service_name})
    used: list[str] = []
    tracer_provider = TracerProvider(resource=resource)
    if span_exporter is not None:
        tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
        used.append("spans:in-process")
    if any(env.get(k) for k in OTLP_ENV):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        used.append("spans:otlp")

    readers = list(metric_readers or [])
    port: int | None = None
    raw_port = env.get(PROMETHEUS_PORT_ENV, "").strip()
    if raw_port:
        if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
            raise ValueError(f"{PROMETHEUS_PORT_ENV}={raw_port!r} is not a port number")
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import start_http_server

        port = int(raw_port)
        start_http_server(port, addr=env.get(PROMETHEUS_HOST_ENV, "0.0.0.0"))
        readers.append(PrometheusMetricReader())
        used.append(f"metrics:prometheus:{port}")
    if any(env.get(k) for k in OTLP_METRICS_ENV):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
        used.append("metrics:otlp")
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)

    # With no exporter, nothing is installed: the API's no-op proxies stay in place, so spans and
    # meters (ours, FastAPI's own and httpx's) cost nothing. Installed but unexported, they were
    # 27 % of the receiver's CPU.
    if set_global and used:
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(meter_provider)
    if instrument_httpx and used:
        instrument_httpx_clients(tracer_provider, meter_provider)
    return Telemetry(tracer_provider, meter_provider, port, used)


def instrument_httpx_clients(tracer_provider: Any = None, meter_provider: Any = None) -> None:
    """Spans (and trace-context headers) for every httpx call in the process."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            request_hook=_redact_span_url,
            async_request_hook=_async_redact_span_url,
        )


# The instrumentation records the full URL; Marketo's token request carries client_secret in
# the query and api_key auth puts the key there: record it redacted.
_URL_ATTRIBUTES = ("url.full", "http.url")


def _redact_span_url(span: Any, request: Any) -> None:
    from eventsync.logs import redact_url

    if span is None or not span.is_recording():
        return
    clean = redact_url(str(request.url))
    attributes = getattr(span, "attributes", None) or {}
    for attribute in _URL_ATTRIBUTES:
        if attribute in attributes:
            span.set_attribute(attribute, clean)
    if "url.query" in attributes:
        span.set_attribute("url.query", clean.partition("?")[2].partition("#")[0])
    if "http.target" in attributes:
        span.set_attribute("http.target", redact_url(str(attributes["http.target"])))


async def _async_redact_span_url(span: Any, request: Any) -> None:
    _redact_span_url(span, request)


def uninstrument_httpx_clients() -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
