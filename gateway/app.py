"""Builds the gateway application: settings, gRPC clients, middleware, error handlers, dialects."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from gateway.admission import AdmissionMiddleware
from gateway.clients import MeshClients
from gateway.dashboard import install_ops
from gateway.dialects.llama_gpu.version import ApiVersionMiddleware
from gateway.drain import Drain, DrainMiddleware
from gateway.errors import install_error_handlers
from gateway.openapi_errors import DocumentedErrorsApp
from gateway.request_id import RequestIdMiddleware
from gateway.routers import discover_routers, install_hot_routes
from gateway.security import install_security
from gateway.settings import GatewaySettings
from gateway.trace_context import TraceContextMiddleware
from services.common.settings import MeshEndpoints
from services.common.tracing import records_spans


def create_app(settings: GatewaySettings | None = None, endpoints: MeshEndpoints | None = None) -> FastAPI:
    """A gateway app; settings and endpoints default to the environment."""
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.clients = MeshClients(
            endpoints,
            settings.call_timeout_seconds,
            settings.restart_wait_seconds,
            settings.predict_calls_in_flight,
            settings.predict_streams,
        )
        yield
        await app.state.clients.close()

    app = DocumentedErrorsApp(  # each operation's error responses, in its surface's envelope
        title="meshserve gateway",
        version=settings.version,
        description="REST, SSE and WebSocket faces of the meshserve gRPC mesh.",
        lifespan=lifespan,
        # With an exporter, one server span per request, continued by the gRPC services. FastAPI's
        # operation spans (dependency resolution, endpoint, serialization) would add more per
        # request to dialects that only translate, at tens of microseconds each on the predict hot
        # path. Without one, TraceContextMiddleware below only carries the caller's trace on.
        # FastAPI's HTTP metrics and logs would go to OpenTelemetry providers the mesh does not
        # install (its metrics are Prometheus'); off, it does not look for them on every request.
        telemetry={"operation_spans": False, "tracing": records_spans(), "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.started_at = time.time()
    app.state.drain = Drain()
    install_security(app)  # auth, permissions, rate limits, audit; inside the request-id middleware
    app.add_middleware(ApiVersionMiddleware)  # document 004's X-API-Version on /api/v1
    app.add_middleware(AdmissionMiddleware, limit=settings.max_in_flight_inference)  # before any work
    app.add_middleware(DrainMiddleware, drain=app.state.drain)  # refuses at once while draining
    app.add_middleware(RequestIdMiddleware)
    if settings.cors_origins:  # none by default: browsers then keep cross-origin pages out
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "X-API-Version",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
            ],
        )
    install_error_handlers(app)
    routers = discover_routers()
    for router in routers:
        app.include_router(router)
    install_hot_routes(app, routers)
    install_ops(app)  # /metrics, /socket.io events, /dashboard
    if not records_spans():  # outermost: every call made for the request carries the caller's trace
        app.add_middleware(TraceContextMiddleware)
    return app
