"""Document 001 error envelope: ``{"success": false, "error", "detail"}``; it owns every path that no
other dialect claims (the root surface)."""

from __future__ import annotations

from typing import Any

from gateway.dialects.envelope import ErrorSurface, register_surface
from services.common.errors import MeshError


def render(error: MeshError, request_id: str) -> dict[str, Any]:
    """The 001 error body."""
    detail = "; ".join(f"{k}={v}" for k, v in error.details.items()) or error.suggestion or error.message
    return {
        "success": False,
        "error": error.message,
        "detail": detail,
        "code": error.code,
        "request_id": request_id,
    }


SURFACE = register_surface(ErrorSurface("pytorch-if", ("/",), render), fallback=True)
