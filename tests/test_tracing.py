"""Tracing set-up: without an exporter spans cost little but ids still propagate; with one, spans are
recorded and continue the caller's trace."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.common.tracing import tracer_provider

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def traceparent_inside(span: trace.Span) -> str:
    """The ``traceparent`` an outbound call made inside ``span`` carries."""
    carrier: dict[str, str] = {}
    inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get("traceparent", "")


def test_without_an_exporter_nothing_is_recorded_but_ids_propagate() -> None:
    tracer = tracer_provider("test").get_tracer("test")
    root = tracer.start_span("root")
    assert not root.is_recording()
    context = root.get_span_context()
    assert context.is_valid and not context.trace_flags.sampled
    _, trace_id, span_id, flags = traceparent_inside(root).split("-")
    assert (int(trace_id, 16), int(span_id, 16)) == (context.trace_id, context.span_id)
    assert not int(flags, 16) & 1  # not sampled
    # A service continues the caller's trace under a new span id.
    child = tracer.start_span("child", context=extract({"traceparent": CALLER}))
    assert not child.is_recording()
    assert child.get_span_context().trace_id == int(CALLER.split("-")[1], 16)
    assert child.get_span_context().span_id != int(CALLER.split("-")[2], 16)


def test_with_an_exporter_spans_are_recorded_in_the_callers_trace() -> None:
    exporter = InMemorySpanExporter()
    tracer = tracer_provider("test", exporter).get_tracer("test")
    span = tracer.start_span("server", context=extract({"traceparent": CALLER}))
    assert span.is_recording()
    span.end()
    [finished] = exporter.get_finished_spans()
    assert finished.context.trace_id == int(CALLER.split("-")[1], 16)
    assert finished.parent is not None and finished.parent.span_id == int(CALLER.split("-")[2], 16)
    assert int(traceparent_inside(span).rsplit("-", 1)[1], 16) & 1  # sampled
