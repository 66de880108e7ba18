"""Document 003 error envelope (its "Error Handling & Resilience" section)."""

from __future__ import annotations

from typing import Any

from gateway.dialects.envelope import ErrorSurface, iso_now
from services.common.errors import MeshError


def render(error: MeshError, request_id: str) -> dict[str, Any]:
    """The 003 error body."""
    return {
        "error": {
            "code": error.code,
            "message": error.message,
            "details": error.details,
            "suggestion": error.suggestion,
        },
        "request_id": request_id,
        "timestamp": iso_now(),
    }


SURFACE = ErrorSurface("auterity", ("/api/ai/", "/api/analytics/", "/api/gateway/"), render)
