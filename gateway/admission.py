"""Admission at the front door: the gateway takes at most ``max_in_flight_inference`` inference
requests at once (streams until their last byte); one more is refused at once with 429 and
``Retry-After`` in its surface's envelope, before any body is read or any call made.

Refusing here, rather than only at the inference service, keeps a saturated gateway's own queue
short: a refusal costs the event loop a fraction of what a translated, forwarded request does, so
the requests it admits keep their latency under overload.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.dashboard.middleware import INFERENCE_PATHS
from gateway.errors import error_response
from services.common.errors import AtCapacity

REFUSED = Counter(
    "meshserve_gateway_refused_total", "Inference requests refused at the gateway (at capacity)"
)
LIMIT = Gauge("meshserve_gateway_max_in_flight_inference", "Inference requests the gateway takes at once")


class AdmissionMiddleware:
    """Counts inference requests in flight and refuses those past the limit (0: no limit)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0
        LIMIT.set(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admits, refuses or passes through one request."""
        if (
            not self.limit
            or scope["type"] != "http"
            or scope["method"] != "POST"
            or not INFERENCE_PATHS.fullmatch(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            REFUSED.inc()
            error = AtCapacity("the gateway", self.in_flight, self.limit, "inference requests")
            await error_response(Request(scope), error)(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
