"""Document 001 error envelope: ``{"success": false, "error", "detail"}``; it owns every path that no
other dialect claims (the root surface)."""

from __future__ import annotations

from typing import Any

from gateway.dialects.envelope import STRING, ErrorSurface, error_object
from services.common.errors import MeshError


def _text(value: Any) -> str:
    """A fact as 001's one-line ``detail`` shows it: ``shape=[1, 3]``, ``allowed=[cpu, cuda]``."""
    if isinstance(value, list):
        return "[" + ", ".join(map(_text, value)) + "]"
    return str(value)


def render(error: MeshError, request_id: str) -> dict[str, Any]:
    """The 001 error body: ``detail`` is a string there, so the facts are written out."""
    detail = (
        "; ".join(f"{k}={_text(v)}" for k, v in error.details.items()) or error.suggestion or error.message
    )
    return {
        "success": False,
        "error": error.message,
        "detail": detail,
        "code": error.code,
        "request_id": request_id,
    }


SCHEMA = error_object(
    ["success", "error", "detail", "code", "request_id"],
    success={"const": False},
    error=STRING,
    detail=STRING,
    code=STRING,
    request_id=STRING,
)
SURFACE = ErrorSurface("pytorch-if", ("/",), render, SCHEMA)
