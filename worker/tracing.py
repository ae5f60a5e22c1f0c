"""Temporal's OpenTelemetry interceptor, on the client and (through it) on every worker built
from that client. Workflow spans are created even when no caller span exists, so runs started
by a Schedule are traced too."""

from __future__ import annotations

from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor


def interceptors() -> list[Interceptor]:
    # The tracer is the global proxy: spans go wherever eventsync.telemetry.setup() (or a
    # test) pointed the global provider, and nowhere at no cost before that.
    return [TracingInterceptor(always_create_workflow_spans=True)]
