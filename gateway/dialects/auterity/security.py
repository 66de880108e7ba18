"""Document 003 ``GET /api/ai/security/audit``: the audit trail by time range and user (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.envelope import iso_now
from gateway.request_id import request_id_of
from meshserve.v1 import auth_pb2 as pb

router = dialect_router("auterity_security", "auterity", "security")


@router.get("/api/ai/security/audit", summary="Audit trail")
async def audit(
    request: Request,
    clients: Clients,
    date_from: Annotated[
        str | None, Query(description="From this day or RFC 3339 time, inclusive (no offset: UTC).")
    ] = None,
    date_to: Annotated[
        str | None, Query(description="Until this day or RFC 3339 time, exclusive (no offset: UTC).")
    ] = None,
    user_id: Annotated[str | None, Query(description="Only this user (or 'anonymous').")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most events, newest first.")] = 100,
) -> dict[str, Any]:
    """Who called what, when, from where, with which outcome and latency (secrets and prompts masked)."""
    reply = await clients.call(
        clients.auth.ListAuditEvents,
        pb.ListAuditEventsRequest(
            since=date_from or "", until=date_to or "", user_id=user_id or "", limit=limit
        ),
        idempotent=True,
    )
    events = [
        {
            "timestamp": e.time,
            "user_id": e.user_id,
            "action": e.action,
            "method": e.method,
            "path": e.path,
            "client_address": e.client_address,
            "status": e.status,
            "outcome": e.outcome,
            "latency_ms": e.latency_ms,
            "credential_type": e.credential_type,
            "detail": e.detail,
            "request_id": e.request_id,
        }
        for e in reply.events
    ]
    return {
        "events": events,
        "count": len(events),
        "filters": {"date_from": date_from, "date_to": date_to, "user_id": user_id, "limit": limit},
        "request_id": request_id_of(request),
        "timestamp": iso_now(),
    }
