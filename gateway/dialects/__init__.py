"""Gateway dialects: each maps one documented surface onto the canonical gRPC API.

A dialect is a package with an ``errors.py`` (its error envelope and the path prefixes it owns) and
one module per resource holding a FastAPI ``router``. Dialects render; they never decide.
"""

from fastapi import APIRouter
from fastapi.routing import APIRoute


def dialect_router(operation_prefix: str, *tags: str) -> APIRouter:
    """A dialect module's router: each route's OpenAPI ``operationId`` is ``<operation_prefix>_<endpoint
    function name>`` unless the route names its own (``auterity_`` + ``job_submit``)."""

    def operation_id(route: APIRoute) -> str:
        return f"{operation_prefix}_{route.name}"

    return APIRouter(tags=list(tags), generate_unique_id_function=operation_id)
