"""Per-call context carried across async boundaries: request id, caller and deadline."""

from __future__ import annotations

import contextvars
import os
import time
from dataclasses import dataclass

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
#: Absolute monotonic time by which the current inbound call must finish; None when unbounded.
deadline_var: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)
#: Identity of the caller as forwarded by the gateway (``x-meshserve-user``).
caller_var: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="")

REQUEST_ID_HEADER = "x-request-id"
CALLER_HEADER = "x-meshserve-user"


@dataclass(frozen=True)
class Tenant:
    """Who a request is billed to, as the gateway resolved it: forwarded beside the caller."""

    api_key_id: str = ""
    plan: str = "anonymous"
    surface: str = ""  # the REST surface (error surface name), "grpc" for a direct call


#: The tenant of the current call (metering, quotas and queue priority).
ANONYMOUS = Tenant()
tenant_var: contextvars.ContextVar[Tenant] = contextvars.ContextVar("tenant", default=ANONYMOUS)
KEY_HEADER = "x-meshserve-key"
PLAN_HEADER = "x-meshserve-plan"
SURFACE_HEADER = "x-meshserve-surface"
#: Reply metadata of a generation: the tenant's token quota when it was admitted (the gateway shows
#: them as ``X-Quota-Tokens-Limit``, ``X-Quota-Tokens-Remaining`` and ``X-Quota-Reset``).
QUOTA_LIMIT_KEY = "x-meshserve-quota-limit"
QUOTA_REMAINING_KEY = "x-meshserve-quota-remaining"
QUOTA_RESET_KEY = "x-meshserve-quota-reset"


def tenant_metadata() -> list[tuple[str, str]]:
    """The current tenant as outbound metadata (nothing for an anonymous direct call)."""
    tenant = tenant_var.get()
    out = []
    if tenant.api_key_id:
        out.append((KEY_HEADER, tenant.api_key_id))
    if tenant.plan != "anonymous":
        out.append((PLAN_HEADER, tenant.plan))
    if tenant.surface:
        out.append((SURFACE_HEADER, tenant.surface))
    return out


def tenant_from_metadata(values: dict[str, str]) -> Tenant:
    """The tenant an inbound call's metadata names; a call without it is a direct gRPC call."""
    return Tenant(
        api_key_id=str(values.get(KEY_HEADER, "")),
        plan=str(values.get(PLAN_HEADER, "anonymous")),
        surface=str(values.get(SURFACE_HEADER, "grpc")),
    )


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
