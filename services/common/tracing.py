"""OpenTelemetry set-up and W3C trace-context propagation over gRPC metadata."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

_configured = False


def configure_tracing(service: str, exporter: SpanExporter | None = None) -> None:
    """Installs a tracer provider: OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, console when
    ``MESHSERVE_TRACE_CONSOLE=1``, otherwise ids are made and propagated but nothing is recorded.

    Without an exporter a recorded span is pure cost (attributes, timestamps, events that no one
    reads), tens of microseconds each on the predict hot path, which makes several; that case
    samples nothing. Every span still gets a trace and span id and ``traceparent`` still travels
    gateway → services → Triton, with the not-sampled flag. Export from every process or from
    none (one ``OTEL_EXPORTER_OTLP_ENDPOINT`` for the mesh, as compose sets it): a process that
    exports keeps the default parent-based sampler, which honours that flag from a caller that
    does not export.
    """
    global _configured
    if _configured:
        return
    trace.set_tracer_provider(tracer_provider(service, exporter))
    _configured = True
    # The inference service has imported tritonclient by now; its Triton calls become spans.
    if "tritonclient.grpc.aio" in sys.modules:
        instrument_tritonclient()


def records_spans() -> bool:
    """Whether the installed tracer provider records spans (an exporter takes them)."""
    provider = trace.get_tracer_provider()
    return isinstance(provider, TracerProvider) and provider.sampler is not ALWAYS_OFF


def tracer_provider(service: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """The provider :func:`configure_tracing` installs (recording only when spans go somewhere)."""
    processor = _span_processor(exporter)
    resource = Resource.create({"service.name": f"meshserve-{service}"})
    if processor is None:
        return TracerProvider(resource=resource, sampler=ALWAYS_OFF)
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(processor)
    return provider


def _span_processor(exporter: SpanExporter | None) -> SpanProcessor | None:
    """Where spans go: the given exporter, OTLP, the console, or nowhere (None)."""
    if exporter is not None:
        return SimpleSpanProcessor(exporter)
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        except ImportError:  # exporter package not installed: say so once, keep running
            import logging

            logging.getLogger(__name__).warning(
                "OTEL_EXPORTER_OTLP_ENDPOINT is set but opentelemetry-exporter-otlp is not installed"
            )
            return None
        return BatchSpanProcessor(OTLPSpanExporter())
    if os.environ.get("MESHSERVE_TRACE_CONSOLE") == "1":
        return BatchSpanProcessor(ConsoleSpanExporter())
    return None


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


def instrument_tritonclient() -> bool:
    """Makes every ``tritonclient.grpc.aio`` ``infer`` a CLIENT span that carries the trace to Triton.

    The W3C ``traceparent`` goes both as a gRPC header (Triton's OpenTelemetry tracing reads it) and
    as a request parameter (visible to the python backend models). Idempotent; False when the
    client is not installed.
    """
    try:
        from tritonclient.grpc import aio as triton_aio
    except ImportError:
        return False
    client_cls = triton_aio.InferenceServerClient
    if getattr(client_cls.infer, "_meshserve_traced", False):
        return True
    original = client_cls.infer
    triton_tracer = trace.get_tracer("meshserve.triton")

    @functools.wraps(original)
    async def infer(self: Any, model_name: str, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        with triton_tracer.start_as_current_span(
            f"triton ModelInfer {model_name}",
            kind=trace.SpanKind.CLIENT,
            attributes={
                "rpc.system": "grpc",
                "rpc.service": "inference.GRPCInferenceService",
                "rpc.method": "ModelInfer",
                "triton.model": model_name,
            },
        ):
            carrier: dict[str, str] = {}
            inject(carrier)
            kwargs["headers"] = {**(kwargs.get("headers") or {}), **carrier}
            if "traceparent" in carrier:
                kwargs["parameters"] = {
                    **(kwargs.get("parameters") or {}),
                    "traceparent": carrier["traceparent"],
                }
            return await original(self, model_name, inputs, *args, **kwargs)

    infer._meshserve_traced = True  # type: ignore[attr-defined]
    client_cls.infer = infer
    return True
