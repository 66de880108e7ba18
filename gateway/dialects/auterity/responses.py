"""003's response framing: every body carries the request's id and the time it was answered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from gateway.dialects.envelope import iso_now
from gateway.request_id import request_id_of


def stamped(
    request: Request, body: dict[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """``body`` with ``request_id`` and ``timestamp``, as 003's routes answer (with ``headers``, if any)."""
    return JSONResponse(
        {**body, "request_id": request_id_of(request), "timestamp": iso_now()},
        status_code=status,
        headers=headers,
    )
