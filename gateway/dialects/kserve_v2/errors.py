"""KServe v2 error body: ``{"error": "<message>"}``."""

from __future__ import annotations

from typing import Any

from gateway.dialects.envelope import STRING, ErrorSurface, error_object
from services.common.errors import MeshError


def render(error: MeshError, request_id: str) -> dict[str, Any]:
    """The KServe v2 error body."""
    return {"error": error.message}


SCHEMA = error_object(["error"], error=STRING)
SURFACE = ErrorSurface("kserve-v2", ("/v2/",), render, SCHEMA)
