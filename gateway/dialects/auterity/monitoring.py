"""Document 003 monitoring, analytics and autoscale: ``/api/ai/advanced/monitoring/realtime``,
``/api/analytics/performance``, ``/api/analytics/realtime/sessions``,
``POST /api/ai/advanced/scaling/autoscale``.

Sessions are the live Socket.IO connections (the mesh keeps no browser analytics). The cache hit
rate is the inference service's response cache (hits over the generations it saw); None before any.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel, Field, StrictFloat, StrictInt

from gateway.dashboard import views
from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.envelope import iso_now
from gateway.request_id import request_id_of
from meshserve.v1 import autoscaler_pb2 as apb
from meshserve.v1 import inference_pb2 as ipb
from services.common.errors import InvalidInput

router = dialect_router("auterity_monitoring", "auterity operations")

#: 003's target metrics and the policy metric each maps to.
TARGET_METRICS = {
    "requests_per_minute": "requests_per_minute",
    "requests_per_second": "request_rate",
    "request_rate": "request_rate",
    "queue_depth": "queue_depth",
    "queue_size": "queue_depth",
    "in_flight": "in_flight",
    "active_requests": "in_flight",
    "latency_p99_ms": "latency_p99_ms",
    "utilization": "utilization",
}


@router.get("/api/ai/advanced/monitoring/realtime", summary="Realtime metrics")
async def realtime(request: Request, clients: Clients) -> dict[str, Any]:
    """Active requests, queue, response time, GPU and memory use now."""
    total = views.totals(await views.stats(clients))
    series = await views.history(clients, 300, 0)
    latest = views.sample(series.latest) if series.HasField("latest") else None
    gpus = views.gpus(await views.devices(clients))
    utilizations = [g["utilization"] for g in gpus if g["utilization"] is not None]
    cache = await clients.call(clients.inference.GetCacheStats, ipb.GetCacheStatsRequest(), idempotent=True)
    return {
        "timestamp": iso_now(),
        "metrics": {
            "active_requests": total.in_flight,
            "queue_size": total.queue_depth,
            "avg_response_time": round(total.mean_latency_ms / 1000, 6),
            "cache_hit_rate": round(cache.hit_rate, 4) if cache.HasField("hit_rate") else None,
            "gpu_utilization": round(sum(utilizations) / len(utilizations), 1) if utilizations else None,
            "memory_usage": latest["memory_usage"] if latest else None,
            "cpu_usage": latest["cpu_usage"] if latest else None,
            "requests_per_second": round(total.request_rate, 4),
            "tokens_per_second": round(total.tokens_per_second, 3),
        },
        "request_id": request_id_of(request),
    }


@router.get(
    "/api/analytics/performance",
    operation_id="auterity_analytics_performance",
    summary="Performance analytics",
)
async def performance(
    request: Request,
    clients: Clients,
    service_name: Annotated[
        str | None, Query(description="Service to report on (the mesh serves them all).")
    ] = None,
    date_from: Annotated[str | None, Query(description="ISO date or time; default one hour ago.")] = None,
) -> dict[str, Any]:
    """Trends since ``date_from`` (bucketed to at most ~60 points), per-model figures and simple alerts."""
    since = time.time() - 3600
    if date_from:
        try:
            parsed = datetime.fromisoformat(date_from.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput("date_from must be an ISO date", details={"field": "date_from"}) from None
        since = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    span = max(60.0, time.time() - since)
    reply = await views.history(clients, span, max(60.0, span / 60))
    points = [views.sample(p) for p in reply.points]
    stats = await views.stats(clients)
    total = views.totals(stats)
    alerts = [
        {"model": m.model_name, "kind": "error_rate", "value": m.failures / m.requests, "threshold": 0.05}
        for m in stats.models
        if m.requests and m.failures / m.requests > 0.05
    ]
    return {
        "service_name": service_name or "meshserve",
        "period": {
            "from": datetime.fromtimestamp(since, UTC).isoformat().replace("+00:00", "Z"),
            "to": iso_now(),
        },
        "summary": {
            "total_requests": total.requests,
            "failed_requests": total.failures,
            "error_rate": round(total.error_rate, 6),
            "avg_response_time": round(total.mean_latency_ms / 1000, 6),
            "requests_per_second": round(total.request_rate, 4),
            "tokens_per_second": round(total.tokens_per_second, 3),
        },
        "models": [views.model_stats(m) for m in stats.models],
        "trends": points,
        "alerts": alerts,
        "request_id": request_id_of(request),
        "timestamp": iso_now(),
    }


@router.get(
    "/api/analytics/realtime/sessions", operation_id="auterity_realtime_sessions", summary="Realtime sessions"
)
async def sessions(request: Request) -> dict[str, Any]:
    """The live Socket.IO sessions with their channels and clients."""
    hub = request.app.state.events
    live = [{**info, "channels": hub.channels_of(sid)} for sid, info in hub.sessions.items()]
    return {
        "active_sessions": len(live),
        "sessions": live,
        "request_id": request_id_of(request),
        "timestamp": iso_now(),
    }


class AutoscaleBody(BaseModel):
    """003's autoscale request; ``model_id`` (or ``target``) names a model, otherwise the worker pool."""

    scaling_type: str = Field("horizontal", description="Only horizontal scaling (replicas) is supported.")
    target_metric: str = Field(
        "requests_per_minute", description="Metric to hold at target_value per instance."
    )
    target_value: StrictFloat = Field(1000, gt=0, description="Value per instance.")
    min_instances: StrictInt = Field(1, ge=0, description="Fewest instances; 0 allows scale to zero.")
    max_instances: StrictInt = Field(4, ge=1, description="Most instances.")
    model_id: str | None = Field(None, description="Model to scale; the worker pool when absent.")
    target: str | None = Field(None, description="Same as model_id.")
    scale_up_cooldown_seconds: StrictFloat | None = Field(
        None, gt=0, description="Seconds between scale-ups."
    )
    scale_down_cooldown_seconds: StrictFloat | None = Field(
        None, gt=0, description="Seconds between scale-downs."
    )


@router.post(
    "/api/ai/advanced/scaling/autoscale",
    operation_id="auterity_autoscale",
    summary="Automatic resource scaling",
)
async def autoscale(request: Request, clients: Clients, body: AutoscaleBody) -> dict[str, Any]:
    """Creates or replaces the target's scaling policy; the control loop applies it from its next period."""
    if body.scaling_type != "horizontal":
        raise InvalidInput(
            "only horizontal scaling is supported",
            details={"field": "scaling_type", "allowed": "horizontal"},
            suggestion="scale replicas horizontally; vertical resources are set per worker deployment",
        )
    metric = TARGET_METRICS.get(body.target_metric)
    if metric is None:
        raise InvalidInput(
            f"unknown target_metric {body.target_metric!r}",
            details={"field": "target_metric", "allowed": ",".join(TARGET_METRICS)},
        )
    if body.min_instances > body.max_instances:
        raise InvalidInput("min_instances must not exceed max_instances", details={"field": "min_instances"})
    policy = apb.Policy(
        target=body.model_id or body.target or "*",
        target_metric=metric,
        target_value=body.target_value,
        min_replicas=body.min_instances,
        max_replicas=body.max_instances,
        scale_up_cooldown_seconds=body.scale_up_cooldown_seconds or 0,
        scale_down_cooldown_seconds=body.scale_down_cooldown_seconds or 0,
    )
    reply = await clients.call(
        clients.autoscaler.PutPolicy, apb.PutPolicyRequest(policy=policy), idempotent=True
    )
    return {
        "status": "active",
        "scaling_type": "horizontal",
        "policy": {**views.policy(reply.policy), "target_metric": body.target_metric},
        "request_id": request_id_of(request),
        "timestamp": iso_now(),
    }
