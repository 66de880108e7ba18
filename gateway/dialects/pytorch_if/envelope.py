"""Document 001's envelope of its operations routes (system, GPU, logs, scaling): ``success`` first,
the route's own facts, and the request's id last."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from gateway.request_id import request_id_of


def ops_reply(request: Request, **facts: Any) -> dict[str, Any]:
    """``facts`` in 001's envelope, in the order given."""
    return {"success": True, **facts, "request_id": request_id_of(request)}
