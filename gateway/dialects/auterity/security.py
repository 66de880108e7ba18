"""Document 003 ``GET /api/ai/security/audit``: the audit trail by time range and user (admin only)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from gateway.deps import Clients
from gateway.dialects.envelope import iso_now
from gateway.request_id import request_id_of
from meshserve.v1 import auth_pb2 as pb
from services.common.errors import InvalidInput

router = APIRouter(tags=["auterity", "security"])

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]00:?00)?)?$")


def _bound(value: str | None, field: str) -> str:
    """A date or UTC date-time as the log's sortable form."""
    if not value:
        return ""
    if not _DATE.match(value):
        raise InvalidInput(
            f"{field} must be a date (YYYY-MM-DD) or a UTC date-time (RFC 3339)",
            details={"field": field, "value": value[:40]},
        )
    return value.replace(" ", "T").replace("+00:00", "Z").replace("+0000", "Z")


@router.get("/api/ai/security/audit", operation_id="auterity_security_audit", summary="Audit trail")
async def audit(
    request: Request,
    clients: Clients,
    date_from: Annotated[str | None, Query(description="From this date or time, inclusive (UTC).")] = None,
    date_to: Annotated[str | None, Query(description="Until this date or time, exclusive (UTC).")] = None,
    user_id: Annotated[str | None, Query(description="Only this user (or 'anonymous').")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most events, newest first.")] = 100,
) -> dict[str, Any]:
    """Who called what, when, from where, with which outcome and latency (secrets and prompts masked)."""
    since, until = _bound(date_from, "date_from"), _bound(date_to, "date_to")
    reply = await clients.call(
        clients.auth.ListAuditEvents,
        pb.ListAuditEventsRequest(since=since, until=until, user_id=user_id or "", limit=limit),
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
