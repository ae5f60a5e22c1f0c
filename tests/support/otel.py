"""One process-wide OpenTelemetry setup for tests: in-memory spans and metrics.

OpenTelemetry lets a process set its global providers once, so every test that looks at
spans or metrics shares these and filters by trace id or attributes."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from eventsync import telemetry


@dataclass
class Captured:
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    installed: telemetry.Telemetry


_captured: Captured | None = None


def captured() -> Captured:
    global _captured
    if _captured is None:
        spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
        installed = telemetry.setup(
            "eventsync-tests",
            environ={},
            span_exporter=spans,
            metric_readers=[reader],
            instrument_httpx=False,
        )
        _captured = Captured(spans, reader, installed)
    return _captured


def metric_points(name: str) -> list[tuple[dict[str, object], float]]:
    """(attributes, value) of every point of metric `name` collected so far."""
    data = captured().metrics.get_metrics_data()
    out: list[tuple[dict[str, object], float]] = []
    if data is None:
        return out
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                if metric.name == name:
                    for point in metric.data.data_points:
                        value = getattr(point, "value", None)
                        if value is None:
                            value = getattr(point, "sum", 0)
                        out.append((dict(point.attributes or {}), float(value)))
    return out
