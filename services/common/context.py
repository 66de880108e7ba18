"""Per-call context carried across async boundaries: request id, caller and deadline."""

from __future__ import annotations

import contextvars
import os
import time

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
#: Absolute monotonic time by which the current inbound call must finish; None when unbounded.
deadline_var: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)
#: Identity of the caller as forwarded by the gateway (``x-meshserve-user``).
caller_var: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="")

REQUEST_ID_HEADER = "x-request-id"
CALLER_HEADER = "x-meshserve-user"


def new_request_id() -> str:
    """A fresh request id: 20 random hex digits (80 bits; a third of the cost of ``uuid4``)."""
    return f"req_{os.urandom(10).hex()}"


def current_request_id() -> str:
    """The request id of the current call, creating one if none is set."""
    rid = request_id_var.get()
    if not rid:
        rid = new_request_id()
        request_id_var.set(rid)
    return rid


def remaining_seconds(default: float) -> float:
    """Seconds left before the inbound deadline, capped at ``default``."""
    deadline = deadline_var.get()
    if deadline is None:
        return default
    return max(0.001, min(default, deadline - time.monotonic()))
