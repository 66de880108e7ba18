"""Every dialect router, discovered: any module under ``gateway.dialects`` with a module-level
``router`` (a FastAPI ``APIRouter``) is served. A path must be defined by one module only (shared
paths, such as ``GET /v1/models``, live in one module that renders both documents' shapes).

FastAPI matches a request against the routes one by one, in order, a few microseconds each: the
tensor predict and text generation surfaces (:data:`HOT_PATH`) come first so the hot paths do not
pay for the hundred-odd routes before them; the rest follow in module-name order. Their paths overlap no one
else's, so the order changes no request's route (``tests/gateway/test_routers.py`` checks it).

An endpoint marked :func:`hot` (one that takes only the ``Request``) is also served by a plain
Starlette route placed before every other (:func:`install_hot_routes`): no route scan and no
dependency resolution, about 0.3 ms of CPU less per call on the build machine. Its FastAPI route
stays, so OpenAPI still documents it; the same function answers both, behind the same middleware
and error handlers.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import Match, Route
from starlette.types import Scope

import gateway.dialects

#: Dialect modules matched first: the tensor predict endpoints, one per document, then the text
#: generation ones, whose time to first token the route scan would otherwise add to (about 0.2 ms
#: for ``/v1/chat/completions``, 33rd of 45 entries in module-name order).
HOT_PATH = (
    "gateway.dialects.kserve_v2.routes",
    "gateway.dialects.pytorch_if.predict",
    "gateway.dialects.ace3.predict",
    "gateway.dialects.openai.chat",
    "gateway.dialects.openai.completions",
    "gateway.dialects.auterity.inference",
    "gateway.dialects.llama_gpu.infer",
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


Endpoint = Callable[[Request], Awaitable[Response]]


class HotRoute(Route):
    """A Starlette route that, like FastAPI's, names itself in ``scope["route"]`` (metrics label
    requests by the route's path template)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Starlette's match, with the route added to the child scope."""
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child["route"] = self
        return match, child


def hot(endpoint: Endpoint) -> Endpoint:
    """Marks a ``Request``-only endpoint for the fast route (:func:`install_hot_routes`)."""
    endpoint.__meshserve_hot__ = True  # type: ignore[attr-defined]
    return endpoint


def install_hot_routes(app: FastAPI, routers: list[APIRouter]) -> None:
    """Puts a plain Starlette route for every :func:`hot` endpoint of ``routers`` first in ``app``."""
    fast = [
        HotRoute(
            route.path,
            route.endpoint,
            methods=sorted(route.methods or ()),
            name=f"{route.name}_hot",
            include_in_schema=False,
        )
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and getattr(route.endpoint, "__meshserve_hot__", False)
    ]
    app.router.routes[:0] = fast
