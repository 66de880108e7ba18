"""Without an exporter the gateway records no span, yet the calls it makes for a request carry the
caller's trace on (``gateway/trace_context.py``), as FastAPI's telemetry does when spans are recorded."""

from __future__ import annotations

import httpx
from starlette.types import Receive, Scope, Send

from gateway.trace_context import TraceContextMiddleware
from services.common.tracing import metadata_with_trace, tracer_provider

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def test_calls_made_for_a_request_carry_the_callers_trace() -> None:
    outbound: list[dict[str, str]] = []

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        outbound.append(dict(metadata_with_trace()))  # what a gRPC call made here sends
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = TraceContextMiddleware(endpoint, tracer_provider("gateway").get_tracer("test"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        assert (await client.get("/v2/models/m/infer", headers={"traceparent": CALLER})).status_code == 204
        assert (await client.get("/health")).status_code == 204

    continued, fresh = (call["traceparent"].split("-") for call in outbound)
    _, caller_trace, caller_span, _ = CALLER.split("-")
    assert continued[1] == caller_trace and continued[2] != caller_span  # a server span of the caller's trace
    assert int(continued[3], 16) & 1 == 0  # not sampled: nothing is recorded
    assert fresh[1] != caller_trace and int(fresh[1], 16) != 0  # a request without one starts its own trace
