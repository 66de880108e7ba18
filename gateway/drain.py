"""The gateway's graceful shutdown: on SIGTERM (or SIGINT) it stops being ready, lets the requests it
has accepted finish, and answers new ones at once with 503 and ``Retry-After`` in their surface's
envelope, on a socket that stays open until the last accepted request is done (or
``drain_timeout_seconds`` have passed); only then does uvicorn close the socket and shut down.

Without this, uvicorn closes its listening socket at the signal: a client that had picked this
gateway gets a refused connection, or a reset on a kept-alive one, rather than an answer it can
retry on.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

import uvicorn
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import error_response
from services.common.errors import BackendUnavailable

log = logging.getLogger("meshserve.gateway")

#: Paths answered as usual while draining: probes say what they see, and metrics stay readable.
PROBE_PATHS = ("/health", "/v2/health/live", "/v2/health/ready", "/metrics")
#: Long-lived connections that would hold the drain: refused while draining, never counted.
UNCOUNTED_PREFIXES = ("/socket.io/",)


class Drain:
    """Whether the gateway drains, since when, and how many accepted requests are still running."""

    def __init__(self) -> None:
        self.draining = False
        self.since = 0.0
        self.in_flight = 0
        self.in_flight_at_start = 0
        self.refused = 0

    def begin(self) -> None:
        """Stops being ready; from now on new requests are refused."""
        if not self.draining:
            self.draining = True
            self.since = time.monotonic()
            self.in_flight_at_start = self.in_flight
            log.info("draining", extra={"in_flight": self.in_flight})


class DrainMiddleware:
    """Counts the HTTP requests in flight; while draining refuses new ones with 503 UNAVAILABLE."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuses, counts or passes through one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if self.drain.draining and path not in PROBE_PATHS:
            self.drain.refused += 1
            error = BackendUnavailable(
                "the gateway is shutting down",
                suggestion="retry after Retry-After; another replica takes it",
                retry_after=1,
            )
            response = error_response(Request(scope), error)
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        if path.startswith(UNCOUNTED_PREFIXES) or path in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        self.drain.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.drain.in_flight -= 1


class DrainingServer(uvicorn.Server):
    """uvicorn, with the first SIGTERM or SIGINT starting a drain rather than closing the socket;
    a second one shuts down at once (uvicorn's own behaviour)."""

    def __init__(self, config: uvicorn.Config, drain: Drain, timeout_seconds: float) -> None:
        super().__init__(config)
        self.drain = drain
        self.timeout_seconds = timeout_seconds

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """The first signal drains; the next ones are uvicorn's."""
        if self.drain.draining or sig not in (signal.SIGTERM, signal.SIGINT):
            super().handle_exit(sig, frame)
            return
        self._captured_signals.append(sig)  # re-raised once served: the process exits as signalled
        self.drain.begin()

    async def on_tick(self, counter: int) -> bool:
        """Ends the drain once nothing accepted is running, or when its time is up."""
        if self.drain.draining and not self.should_exit:
            elapsed = time.monotonic() - self.drain.since
            if self.drain.in_flight == 0 or elapsed >= self.timeout_seconds:
                log.info(
                    "drained",
                    extra={
                        "in_flight": self.drain.in_flight,
                        "refused": self.drain.refused,
                        "seconds": round(elapsed, 3),
                    },
                )
                self.should_exit = True
        return await super().on_tick(counter)
