"""The caller's trace continued when no span is recorded.

With an exporter configured, FastAPI's native telemetry records a server span per request, in the
caller's trace (``traceparent``), and every gRPC call made inside it carries that trace on. Without
one nothing is recorded, yet ids should still travel (a caller's trace, continued by the services and
Triton); FastAPI's telemetry would still build a span per request with its attributes and
bookkeeping, which in-process costs about a fifth of the KServe predict path's CPU. This middleware
does only what is needed then: it extracts the caller's context and makes a non-recording server span
in it current for the request.
"""

from __future__ import annotations

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract
from starlette.types import ASGIApp, Receive, Scope, Send

_TRACER = trace.get_tracer("meshserve.gateway")


class TraceContextMiddleware:
    """Pure ASGI: each HTTP request and WebSocket runs in a non-recording span of its caller's trace."""

    def __init__(self, app: ASGIApp, tracer: trace.Tracer | None = None) -> None:
        self.app = app
        self.tracer = tracer or _TRACER

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Runs the request inside the span."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        carrier = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope.get("headers") or ()
            if key in (b"traceparent", b"tracestate")
        }
        span = self.tracer.start_span(scope["path"], context=extract(carrier), kind=trace.SpanKind.SERVER)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            await self.app(scope, receive, send)
        finally:
            otel_context.detach(token)
            span.end()
