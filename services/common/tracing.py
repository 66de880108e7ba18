"""OpenTelemetry set-up and W3C trace-context propagation over gRPC metadata."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

_configured = False


def configure_tracing(service: str, exporter: SpanExporter | None = None) -> None:
    """Installs a tracer provider: OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, console when
    ``MESHSERVE_TRACE_CONSOLE=1``, otherwise spans are created (ids propagate) but not exported."""
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"meshserve-{service}"}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        except ImportError:  # exporter package not installed: say so once, keep running
            import logging

            logging.getLogger(__name__).warning(
                "OTEL_EXPORTER_OTLP_ENDPOINT is set but opentelemetry-exporter-otlp is not installed"
            )
        else:
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    elif os.environ.get("MESHSERVE_TRACE_CONSOLE") == "1":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True


def context_from_metadata(metadata: Iterable[tuple[str, str | bytes]] | None) -> otel_context.Context:
    """The trace context a caller sent in ``traceparent``/``tracestate`` metadata."""
    carrier = {k: v for k, v in (metadata or ()) if isinstance(v, str)}
    return extract(carrier)


def metadata_with_trace(metadata: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """Outbound metadata plus the current span's ``traceparent``."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return [*metadata, *carrier.items()]


def tracer(name: str) -> trace.Tracer:
    """A tracer for a module."""
    return trace.get_tracer(name)
