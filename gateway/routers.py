"""Every dialect router, discovered: any module under ``gateway.dialects`` with a module-level
``router`` (a FastAPI ``APIRouter``) is served. Modules are taken in name order; a path must be
defined by one module only (shared paths, such as ``GET /v1/models``, live in one module that
renders both documents' shapes)."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

import gateway.dialects


def discover_routers() -> list[APIRouter]:
    """The routers of every dialect module, in module-name order."""
    routers: list[APIRouter] = []
    prefix = gateway.dialects.__name__ + "."
    for info in sorted(pkgutil.walk_packages(gateway.dialects.__path__, prefix), key=lambda i: i.name):
        module = importlib.import_module(info.name)
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            routers.append(router)
    return routers
