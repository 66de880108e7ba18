"""Every dialect router, discovered: any module under ``gateway.dialects`` with a module-level
``router`` (a FastAPI ``APIRouter``) is served. A path must be defined by one module only (shared
paths, such as ``GET /v1/models``, live in one module that renders both documents' shapes).

FastAPI matches a request against the routes one by one, in order, a few microseconds each: the
tensor predict surfaces (:data:`HOT_PATH`) come first so the predict hot path does not pay for the
hundred-odd routes before it; the rest follow in module-name order. Their paths overlap no one
else's, so the order changes no request's route (``tests/gateway/test_routers.py`` checks it).
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

import gateway.dialects

#: Dialect modules matched first: the tensor predict endpoints, one per document.
HOT_PATH = (
    "gateway.dialects.kserve_v2.routes",
    "gateway.dialects.pytorch_if.predict",
    "gateway.dialects.ace3.predict",
)


def dialect_modules() -> list[str]:
    """Names of every dialect module, hot path first, then in module-name order."""
    prefix = gateway.dialects.__name__ + "."
    names = sorted(info.name for info in pkgutil.walk_packages(gateway.dialects.__path__, prefix))
    rest = [name for name in names if name not in HOT_PATH]
    return [*(name for name in HOT_PATH if name in names), *rest]


def discover_routers(modules: list[str] | None = None) -> list[APIRouter]:
    """The routers of the given dialect modules (default: every one, in :func:`dialect_modules` order)."""
    routers: list[APIRouter] = []
    for name in dialect_modules() if modules is None else modules:
        router = getattr(importlib.import_module(name), "router", None)
        if isinstance(router, APIRouter):
            routers.append(router)
    return routers
