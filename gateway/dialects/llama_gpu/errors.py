"""Document 004 §8.1 error envelope."""

from __future__ import annotations

from typing import Any

from gateway.dialects.envelope import FACTS, STRING, ErrorSurface, error_object, iso_now
from services.common.errors import MeshError


def render(error: MeshError, request_id: str) -> dict[str, Any]:
    """The 004 error body."""
    return {
        "success": False,
        "error": {"code": error.code, "message": error.message, "details": error.details},
        "request_id": request_id,
        "timestamp": iso_now(),
    }


SCHEMA = error_object(
    ["success", "error", "request_id", "timestamp"],
    success={"const": False},
    error=error_object(["code", "message", "details"], code=STRING, message=STRING, details=FACTS),
    request_id=STRING,
    timestamp={"type": "string", "format": "date-time"},
)
SURFACE = ErrorSurface("llama-gpu", ("/api/v1/", "/socket.io"), render, SCHEMA)
