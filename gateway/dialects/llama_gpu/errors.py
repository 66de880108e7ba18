"""Document 004 §8.1 error envelope."""

from __future__ import annotations

from typing import Any

from gateway.dialects.envelope import ErrorSurface, iso_now
from services.common.errors import MeshError


def render(error: MeshError, request_id: str) -> dict[str, Any]:
    """The 004 error body."""
    return {
        "success": False,
        "error": {"code": error.code, "message": error.message, "details": error.details},
        "request_id": request_id,
        "timestamp": iso_now(),
    }


SURFACE = ErrorSurface("llama-gpu", ("/api/v1/", "/socket.io"), render)
