"""The OpenAPI document's error responses: every operation lists the statuses the gateway's error
path can answer, each with the envelope of the surface that owns the operation's path (the same
choice :func:`gateway.errors.error_response` makes), so a client generator, or a fuzzer checking
responses against the schema, sees the body it really gets.

FastAPI's default ``422`` entries go: a request that fails validation is a 400 in the surface's
envelope here, never a 422.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from gateway.dialects.envelope import surface_for
from gateway.errors import FALLBACK, SURFACES

#: Statuses the error path answers (canonical reasons, and Starlette's 405/413/415 for a method,
#: size or content type the route does not take), with their descriptions.
ERROR_STATUSES = {
    "400": "Bad request: malformed body, wrong content type or a value out of range",
    "401": "Authentication required or failed",
    "403": "Not allowed for this caller",
    "404": "Not found",
    "409": "Conflict with the current state",
    "413": "Request body too large",
    "415": "Unsupported media type",
    "429": "Rate limit, quota or queue full; see Retry-After",
    "500": "Internal error",
    "503": "A backend is unavailable or the gateway is draining; see Retry-After",
    "504": "Deadline exceeded",
}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def schema_name(surface: str) -> str:
    """The component name of a surface's error envelope, e.g. ``ErrorLlamaGpu``."""
    return "Error" + "".join(part.capitalize() for part in surface.replace("_", "-").split("-"))


def add_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (an OpenAPI dict) with every operation's error responses in its envelope."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for surface in (*SURFACES, FALLBACK):
        schemas[schema_name(surface.name)] = surface.schema
    for path, item in document.get("paths", {}).items():
        surface = surface_for(path, SURFACES, FALLBACK)
        reference = {"$ref": f"#/components/schemas/{schema_name(surface.name)}"}
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(
                    status,
                    {"description": description, "content": {"application/json": {"schema": reference}}},
                )
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


class DocumentedErrorsApp(FastAPI):
    """A FastAPI app whose OpenAPI document carries the error responses (built once, on first use)."""

    def openapi(self) -> dict[str, Any]:
        """FastAPI's document, with :func:`add_error_responses` applied."""
        if self.openapi_schema is None:
            self.openapi_schema = add_error_responses(super().openapi())
        return self.openapi_schema
