"""Document 003 ``POST /api/gateway/route``: dispatches ``service`` + ``endpoint`` + ``method`` +
``payload`` to the matching documented route of this gateway, in process, and returns that
route's own response (status, body, content type), streamed as it is produced: a routed SSE
stream arrives event by event, and a caller that leaves ends the target's work.

The target request passes through the whole gateway again, so the caller's credentials (the
``Authorization`` or ``X-API-Key`` header, forwarded) decide access to the *target* route exactly
as if it were called directly, and it is audited and rate-limited as a call of its own. Services:
``ai_core`` (also ``ai``) is ``/api/ai/*``, ``analytics`` is ``/api/analytics/*``. An unknown
service or endpoint is a 404 in 003's envelope, a known endpoint with another method a 400.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.routing import Match

from gateway import inprocess
from gateway.dialects import dialect_router
from gateway.request_id import request_id_of
from services.common.errors import InvalidInput, NotFound

router = dialect_router("auterity_gateway", "auterity")

ROUTE_PATH = "/api/gateway/route"
SERVICES = {"ai_core": "/api/ai", "ai": "/api/ai", "analytics": "/api/analytics"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: Headers carried to the target: credentials, tracing and the request id.
FORWARDED = ("authorization", "x-api-key", "traceparent", "tracestate")


class RouteRequest(BaseModel):
    """003's route body."""

    service: str = Field(..., description="ai_core (or ai) or analytics.")
    endpoint: str = Field(..., description="Path under the service, such as /inference.")
    method: str = Field("POST", description="HTTP method of the target.")
    payload: dict[str, Any] | None = Field(None, description="JSON body; query parameters for GET.")
    priority: str = Field("normal", description="Accepted for compatibility; routing is immediate.")


def _target_path(body: RouteRequest) -> str:
    prefix = SERVICES.get(body.service.strip().lower())
    if prefix is None:
        raise NotFound(
            f"unknown service {body.service!r}",
            details={"service": body.service, "available_services": list(SERVICES)},
            suggestion="use ai_core or analytics",
        )
    endpoint = "/" + body.endpoint.strip().lstrip("/")
    path = endpoint if endpoint.startswith(prefix + "/") else prefix + endpoint
    if path == ROUTE_PATH:
        raise InvalidInput("the route endpoint cannot route to itself", details={"field": "endpoint"})
    return path


def _check_route(request: Request, path: str, method: str, service: str) -> None:
    """404 when no documented route has the path, 400 when it exists for other methods only."""
    scope = {"type": "http", "path": path, "method": method}
    partial = False
    for route in request.app.routes:
        match, _ = route.matches(scope)
        if match is Match.FULL and path.startswith(("/api/ai/", "/api/analytics/")):
            return
        partial = partial or match is Match.PARTIAL
    if partial:
        raise InvalidInput(f"{path} does not accept {method}", details={"field": "method", "endpoint": path})
    prefix = SERVICES[service.strip().lower()]
    paths = request.app.openapi().get("paths", {})  # the documented routes (cached by FastAPI)
    known = sorted(p.removeprefix(prefix) for p in paths if p.startswith(prefix + "/"))
    raise NotFound(
        f"no endpoint {path} in service {service!r}",
        details={"endpoint": path, "available_endpoints": list(known)},
        suggestion="use one of the service's documented endpoints",
    )


@router.post(ROUTE_PATH, summary="Route a call to a service (document 003)")
async def route(body: RouteRequest, request: Request) -> StreamingResponse:
    """Calls the target route in process with the caller's credentials and returns its response."""
    method = body.method.strip().upper()
    if method not in METHODS:
        raise InvalidInput(
            f"method {body.method!r} is not one of {', '.join(METHODS)}",
            details={"field": "method", "allowed": list(METHODS)},
        )
    path = _target_path(body)
    _check_route(request, path, method, body.service)
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED}
    headers["x-request-id"] = request_id_of(request)
    client = (request.client.host, request.client.port) if request.client else ("127.0.0.1", 0)
    if method == "GET":
        query = urlencode({k: str(v) for k, v in (body.payload or {}).items()}).encode()
        reply = await inprocess.call(request.app, method, path, headers=headers, query=query, client=client)
    else:
        payload = json.dumps(body.payload or {}).encode()
        headers |= {"content-type": "application/json", "content-length": str(len(payload))}
        reply = await inprocess.call(request.app, method, path, headers=headers, body=payload, client=client)
    kept = {
        "x-gateway-target": f"{method} {path}",
        **{
            k: v
            for k, v in reply.headers
            if k.lower().startswith("x-ratelimit") or k.lower() == "retry-after"
        },
    }
    # Streamed as the target produces it: a routed SSE stream arrives event by event.
    return StreamingResponse(
        reply.body,
        status_code=reply.status_code,
        media_type=reply.header("content-type"),
        headers=kept,
    )
