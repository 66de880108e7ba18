"""Router order: the predict surfaces are matched first, and that order sends no request elsewhere
than module-name order would (no path of theirs overlaps another module's)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.routing import BaseRoute

from gateway import app as gateway_app
from gateway.app import create_app
from gateway.routers import HOT_PATH, HotRoute, dialect_modules, discover_routers


def flat_routes(routes: list[BaseRoute]) -> list[Any]:
    """Every route in matching order, included routers opened."""
    flat: list[Any] = []
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is None:
            flat.append(route)
        else:
            flat.extend(context.original_route for context in contexts())
    return flat


def resolve(routes: list[Any], method: str, path: str) -> Any:
    """The route a request goes to: the first matching path and method, else the first path (405)."""
    by_path = [r for r in routes if getattr(r, "path_regex", None) and r.path_regex.match(path)]
    return next((r for r in by_path if method in (getattr(r, "methods", None) or {method})), None) or (
        by_path[0] if by_path else None
    )


def identity(route: Any) -> tuple[str, str, str]:
    """What a route is, the same across two app instances (endpoints may be closures)."""
    endpoint = getattr(route, "endpoint", None) or getattr(route, "app", None)
    name = getattr(endpoint, "__qualname__", None) or type(endpoint).__qualname__
    return route.path, getattr(endpoint, "__module__", ""), name


def sample(path: str) -> str:
    """A concrete path for a route template."""
    return re.sub(r"\{[^}]+\}", "some-name", path)


def test_hot_path_modules_come_first() -> None:
    assert dialect_modules()[: len(HOT_PATH)] == list(HOT_PATH)
    served = flat_routes(create_app().router.routes)
    # The hot tensor predict endpoints (KServe v2, 001, 000) are served first by plain routes, ahead
    # of everything ...
    assert [(type(r), r.path) for r in served[:4]] == [
        (HotRoute, "/v2/models/{name}/versions/{version}/infer"),
        (HotRoute, "/v2/models/{name}/infer"),
        (HotRoute, "/predict"),
        (HotRoute, "/v1/models/{model_id}/predict"),
    ]
    assert served[1].endpoint is served[0].endpoint
    # ... and the predict modules' FastAPI routes come before the other dialects'.
    api = [
        r
        for r in served[4:]
        if getattr(r, "methods", None) and r.path.startswith(("/v2", "/predict", "/v1/"))
    ]
    first_paths = [r.path for r in api[:10]]
    assert "/v2/models/{name}/infer" in first_paths and "/predict" in first_paths


def test_order_changes_no_route(monkeypatch: pytest.MonkeyPatch) -> None:
    served = flat_routes(create_app().router.routes)
    monkeypatch.setattr(gateway_app, "discover_routers", lambda: discover_routers(sorted(dialect_modules())))
    by_name = flat_routes(create_app().router.routes)
    assert len(served) == len(by_name)
    checked = 0
    for route in served:
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            path = sample(route.path)
            got, want = resolve(served, method, path), resolve(by_name, method, path)
            assert identity(got) == identity(want), f"{method} {path}"
            checked += 1
    assert checked > 50
