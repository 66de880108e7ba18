"""Document 003 error envelope (its "Error Handling & Resilience" section)."""

from __future__ import annotations

from typing import Any

from gateway.dialects.envelope import FACTS, STRING, ErrorSurface, error_object, iso_now
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


SCHEMA = error_object(
    ["error", "request_id", "timestamp"],
    error=error_object(
        ["code", "message", "details", "suggestion"],
        code=STRING,
        message=STRING,
        details=FACTS,
        suggestion=STRING,
    ),
    request_id=STRING,
    timestamp={"type": "string", "format": "date-time"},
)
SURFACE = ErrorSurface("auterity", ("/api/ai/", "/api/analytics/", "/api/gateway/"), render, SCHEMA)
