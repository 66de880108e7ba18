"""How an error is rendered on each surface: the envelope registry, picked by request path."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.common.errors import MeshError

Renderer = Callable[[MeshError, str], dict[str, Any]]


@dataclass(frozen=True)
class ErrorSurface:
    """A dialect's error envelope and the path prefixes it owns."""

    name: str
    prefixes: tuple[str, ...]
    render: Renderer


_SURFACES: list[ErrorSurface] = []
_FALLBACK: list[ErrorSurface] = []


def register_surface(surface: ErrorSurface, *, fallback: bool = False) -> ErrorSurface:
    """Adds a surface; the fallback renders paths no other surface owns."""
    (_FALLBACK if fallback else _SURFACES).append(surface)
    return surface


def surface_for(path: str) -> ErrorSurface:
    """The surface owning a path: the longest matching prefix wins."""
    best: ErrorSurface | None = None
    best_len = -1
    for surface in _SURFACES:
        for prefix in surface.prefixes:
            if _matches(path, prefix) and len(prefix) > best_len:
                best, best_len = surface, len(prefix)
    if best is not None:
        return best
    return _FALLBACK[0]


def _matches(path: str, prefix: str) -> bool:
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")


def iso_now() -> str:
    """Current UTC time, RFC 3339 with a Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
