"""The gateway's operations surface: Prometheus ``/metrics``, server spans, the Socket.IO event
stream at ``/socket.io`` (004 §7) and the live ``/dashboard`` page fed by that stream.

:func:`install_ops` is the one call ``create_app`` makes; the hub's publishers start and stop with
the application's lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute

from gateway.dashboard.middleware import ObservabilityMiddleware
from gateway.dashboard.settings import OpsSettings
from gateway.events import EventHub
from services.common.metrics import render_latest

PAGE = Path(__file__).with_name("page.html")

router = APIRouter(tags=["operations"])


@router.get("/metrics", operation_id="gateway_metrics", include_in_schema=True)
async def metrics() -> Response:
    """This gateway process's Prometheus metrics (text exposition format)."""
    body, content_type = render_latest()
    return Response(body, media_type=content_type)


@router.get("/dashboard", operation_id="dashboard", response_class=HTMLResponse)
async def dashboard() -> HTMLResponse:
    """A live page of requests, latency, tokens/s, workers and scaling decisions."""
    return HTMLResponse(PAGE.read_text(encoding="utf-8"))


def install_ops(app: FastAPI, settings: OpsSettings | None = None) -> EventHub:
    """Adds the middleware, the Socket.IO endpoint, /metrics and /dashboard to an app."""
    settings = settings or OpsSettings()
    hub = EventHub(settings)
    app.state.ops_settings = settings
    app.state.events = hub
    app.add_middleware(ObservabilityMiddleware, hub=hub)
    app.include_router(router)
    # Routes (not a mount) keep the path as Socket.IO expects it and the security middleware in front.
    app.router.routes.append(Route("/socket.io/", hub.asgi, methods=["GET", "POST"], include_in_schema=False))
    app.router.routes.append(WebSocketRoute("/socket.io/", hub.asgi))

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            hub.start(application.state.clients)
            try:
                yield state
            finally:
                await hub.stop()

    app.router.lifespan_context = lifespan
    return hub


__all__ = ["install_ops"]
