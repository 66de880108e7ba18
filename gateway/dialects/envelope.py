"""How an error is rendered on each surface: a dialect's envelope and the path prefixes it owns, and
the choice of one by request path (the table of surfaces is ``gateway/errors.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from services.common.errors import MeshError

Renderer = Callable[[MeshError, str], dict[str, Any]]


@dataclass(frozen=True)
class ErrorSurface:
    """A dialect's error envelope and the path prefixes it owns; ``schema`` is the envelope's JSON
    Schema as its document defines it (the OpenAPI documents every error response with it)."""

    name: str
    prefixes: tuple[str, ...]
    render: Renderer
    schema: dict[str, Any]


def error_object(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of an object with these properties, ``required`` of them required."""
    return {"type": "object", "required": required, "properties": properties}


STRING: dict[str, Any] = {"type": "string"}
FACTS: dict[str, Any] = {"type": "object", "description": "facts about the failure, with their JSON types"}


def surface_for(path: str, surfaces: tuple[ErrorSurface, ...], fallback: ErrorSurface) -> ErrorSurface:
    """The surface owning a path: the longest matching prefix wins; ``fallback`` renders the rest."""
    best: ErrorSurface | None = None
    best_len = -1
    for surface in surfaces:
        for prefix in surface.prefixes:
            if _matches(path, prefix) and len(prefix) > best_len:
                best, best_len = surface, len(prefix)
    return best if best is not None else fallback


def _matches(path: str, prefix: str) -> bool:
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")


def iso_now() -> str:
    """Current UTC time, RFC 3339 with a Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@contextmanager
def fields_named(names: Mapping[str, str]) -> Iterator[None]:
    """Errors raised inside name this surface's field where the canonical API's differs (OpenAI's
    ``input`` is the speech service's ``text``), so ``param`` and ``details.field`` point at what
    the caller sent."""
    try:
        yield
    except MeshError as error:
        field = error.details.get("field")
        if isinstance(field, str) and field in names:
            error.details["field"] = names[field]
        raise
