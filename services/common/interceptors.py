"""The server interceptor every service runs: request id, trace span, deadline, logs, error mapping.

Exceptions leave a servicer in one place only: here. A :class:`MeshError` becomes its rich gRPC status;
anything else is logged with its traceback and becomes INTERNAL with reason ``INTERNAL``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace

from services.common.context import (
    CALLER_HEADER,
    REQUEST_ID_HEADER,
    caller_var,
    deadline_var,
    new_request_id,
    request_id_var,
    tenant_from_metadata,
    tenant_var,
)
from services.common.errors import InternalError, MeshError
from services.common.internal_auth import check_inbound, internal_auth
from services.common.metrics import GRPC_CALLS, GRPC_LATENCY
from services.common.tracing import context_from_metadata

log = logging.getLogger("meshserve.grpc")


class InflightTracker:
    """Counts calls in progress so shutdown can report what it drains."""

    def __init__(self) -> None:
        self.count = 0


class ServerInterceptor(grpc.aio.ServerInterceptor):
    """Wraps every handler with the per-call context and the canonical error mapping."""

    def __init__(self, inflight: InflightTracker | None = None) -> None:
        self.inflight = inflight or InflightTracker()
        internal_auth().validate_for_start()  # fail fast: auth on without an internal token
        self._tracer = trace.get_tracer("meshserve.grpc")

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        """Returns the handler wrapped; health and reflection pass through untouched."""
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or method.startswith(("/grpc.health", "/grpc.reflection")):
            return handler
        metadata = tuple(handler_call_details.invocation_metadata or ())
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(handler.unary_unary, method, metadata),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(handler.unary_stream, method, metadata),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary(handler.stream_unary, method, metadata),
                handler.request_deserializer,
                handler.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            self._wrap_stream(handler.stream_stream, method, metadata),
            handler.request_deserializer,
            handler.response_serializer,
        )

    def _enter(self, method: str, metadata: tuple[Any, ...], context: grpc.aio.ServicerContext) -> Any:
        token = enter_call_context(metadata, context.time_remaining())
        self.inflight.count += 1
        return token

    def _exit(self, token: Any) -> None:
        self.inflight.count -= 1
        leave_call_context(token)

    @contextlib.asynccontextmanager
    async def _serving(
        self, method: str, metadata: tuple[Any, ...], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[None]:
        """One call's context, inbound check, span, log and metrics; an exception the block raises
        becomes the call's status (a MeshError its own, anything else INTERNAL)."""
        token = self._enter(method, metadata, context)
        started = time.perf_counter()
        try:
            check_inbound(metadata)  # refuses callers without the internal token when auth is on
            with self._tracer.start_as_current_span(method, kind=trace.SpanKind.SERVER):
                yield
            _log_call(method, "OK", started)
        except MeshError as error:
            _log_call(method, error.code, started)
            await context.abort_with_status(error.to_status())
        except grpc.aio.AbortError:
            raise
        except Exception as error:  # unexpected: keep the traceback in the log
            log.exception("unhandled error in %s", method)
            _log_call(method, "INTERNAL", started)
            await context.abort_with_status(InternalError(f"internal error: {error}").to_status())
        finally:
            self._exit(token)

    def _wrap_unary(self, behaviour: Callable[..., Any], method: str, metadata: tuple[Any, ...]) -> Any:
        async def wrapped(request_or_iterator: Any, context: grpc.aio.ServicerContext) -> Any:
            result = None
            async with self._serving(method, metadata, context):
                result = await behaviour(request_or_iterator, context)
            return result

        return wrapped

    def _wrap_stream(self, behaviour: Callable[..., Any], method: str, metadata: tuple[Any, ...]) -> Any:
        # A coroutine that writes, not a generator that grpc drives: a call the client cancels then
        # raises inside it, and the servicer's generators are closed here, in this task, innermost
        # first (a generator grpc stopped driving would be closed later by the garbage collector,
        # in another context, in no particular order).
        async def wrapped(request_or_iterator: Any, context: grpc.aio.ServicerContext) -> None:
            async with self._serving(method, metadata, context):
                items = behaviour(request_or_iterator, context)
                closing = (
                    contextlib.aclosing(items) if hasattr(items, "aclose") else contextlib.nullcontext(items)
                )
                async with closing:
                    async for item in items:
                        await context.write(item)

        return wrapped


def enter_call_context(metadata: Iterable[tuple[str, Any]], remaining_seconds: float | None) -> Any:
    """Sets the context one call runs in (request id, caller, tenant, deadline, trace) from its
    metadata; returns the token :func:`leave_call_context` takes. A call's own, or one request's of a
    batch (which carries the same keys in its item)."""
    pairs = tuple(metadata)
    values = dict(pairs)
    request_id_var.set(str(values.get(REQUEST_ID_HEADER) or new_request_id()))
    caller_var.set(str(values.get(CALLER_HEADER, "")))
    tenant_var.set(tenant_from_metadata(values))
    deadline_var.set(time.monotonic() + remaining_seconds if remaining_seconds is not None else None)
    return otel_context.attach(context_from_metadata(pairs))


def leave_call_context(token: Any) -> None:
    """Ends what :func:`enter_call_context` began (the trace context it attached)."""
    otel_context.detach(token)


def _log_call(method: str, outcome: str, started: float) -> None:
    elapsed = time.perf_counter() - started
    GRPC_CALLS.labels(method, outcome).inc()
    GRPC_LATENCY.labels(method).observe(elapsed)
    # Successful calls log at DEBUG: a record per call at INFO costs the predict hot path more than
    # its metrics do (the counters above keep every call); failures stay at INFO.
    level = logging.DEBUG if outcome == "OK" else logging.INFO
    if log.isEnabledFor(level):
        log.log(level, "call", extra={"method": method, "outcome": outcome, "ms": round(elapsed * 1000, 2)})


__all__ = ["InflightTracker", "ServerInterceptor", "enter_call_context", "leave_call_context"]
