"""``GET /health``: one body carrying every field documents 001 and 004 give, plus each service's
address and gRPC health. 503 names the services that are not serving.
While the gateway drains after SIGTERM it is 503 with ``"status": "draining"``. The probes are
KServe's: ``/v2/health/live`` (liveness) and ``/v2/health/ready`` (readiness)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from gateway.deps import Clients, Settings, started_at
from gateway.dialects.envelope import iso_now
from gateway.request_id import request_id_of

router = APIRouter(tags=["health"])


@router.get("/health", operation_id="health", summary="Health of the gateway and every service")
async def health(
    request: Request, clients: Clients, settings: Settings, started: Annotated[float, Depends(started_at)]
) -> JSONResponse:
    """Checks every service over grpc.health.v1 and reports them all."""
    checks = await clients.check_all(settings.health_timeout_seconds)
    down = [c.name for c in checks if not c.serving]
    draining = request.app.state.drain.draining
    services: dict[str, Any] = {
        c.name: {
            "status": "serving" if c.serving else "unavailable",
            "grpc_status": c.status,
            "address": c.address,
            "latency_ms": c.latency_ms,
            **({"error": c.error} if c.error else {}),
        }
        for c in checks
    }
    autoscaler = services["autoscaler"]
    body = {
        "success": not down,
        "status": "healthy" if not down else "unhealthy",
        "healthy": not down,
        "version": settings.version,
        "timestamp": iso_now(),
        "uptime": round(time.time() - started, 3),
        "services": services,
        "unavailable_services": down,
        "autoscaler": {"healthy": autoscaler["status"] == "serving", "address": autoscaler["address"]},
        "request_id": request_id_of(request),
    }
    if down:
        body["error"] = f"service(s) not serving: {', '.join(down)}"
    if draining:
        body.update(success=False, status="draining", healthy=False, draining=True)
        body["error"] = "the gateway is shutting down"
    return JSONResponse(body, status_code=200 if not down and not draining else 503)
