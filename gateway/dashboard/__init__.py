"""The gateway's operations surface: Prometheus ``/metrics``, server spans, the Socket.IO event
stream at ``/socket.io`` (004 §7) and the live ``/dashboard`` page fed by that stream.

The page draws its charts with uPlot, vendored in ``static/`` at a pinned version and served from
here, so the page works with no network. On load it reads the last minutes of the autoscaler's
metrics series from ``/dashboard/history``, then extends the charts with the ``metrics_samples``
channel.

:func:`install_ops` is the one call ``create_app`` makes; the hub's publishers start and stop with
the application's lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute

from gateway.dashboard import views
from gateway.dashboard.middleware import ObservabilityMiddleware
from gateway.dashboard.settings import OpsSettings
from gateway.deps import Clients
from gateway.events import EventHub
from gateway.series import chart_point, decision_mark
from services.common.errors import NotFound
from services.common.metrics import render_latest

PAGE = Path(__file__).with_name("page.html")
STATIC = Path(__file__).with_name("static")
#: The files the page loads, with their media types (nothing else under static/ is served).
ASSETS = {
    "dashboard.js": "text/javascript",
    "uPlot.iife.min.js": "text/javascript",
    "uPlot.min.css": "text/css",
}

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    operation_id="gateway_metrics",
    responses={200: {"description": "Prometheus text exposition", "content": {"text/plain": {}}}},
)
async def metrics() -> Response:
    """This gateway process's Prometheus metrics (text exposition format)."""
    body, content_type = render_latest()
    return Response(body, media_type=content_type)


@router.get("/dashboard", operation_id="dashboard", response_class=HTMLResponse)
async def dashboard() -> HTMLResponse:
    """A live page of requests, latency, tokens/s, workers and scaling decisions."""
    return HTMLResponse(PAGE.read_text(encoding="utf-8"))


@router.get("/dashboard/static/{name}", include_in_schema=False)
async def dashboard_asset(name: str) -> Response:
    """A file the page loads (the vendored chart library)."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound(f"no dashboard asset named {name!r}", details={"asset": name})
    return Response(
        (STATIC / name).read_bytes(),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/dashboard/history", operation_id="dashboard_history")
async def dashboard_history(
    clients: Clients,
    minutes: int = Query(15, ge=1, le=60, description="How far back, in minutes."),
) -> dict[str, Any]:
    """The charts' data: the autoscaler's samples of the last minutes (per-model figures included)
    and the scaling decisions to mark on the time axis."""
    series = await views.history(clients, minutes * 60.0, 0)
    scaler = await views.autoscaler_stats(clients)
    return {
        "period_seconds": series.period_seconds,
        "points": [chart_point(p) for p in series.points],
        "decisions": sorted((decision_mark(d) for d in scaler.recent_decisions), key=lambda d: d["t"]),
    }


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
