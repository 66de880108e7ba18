"""Document 001 autoscaling and server management: ``/autoscaler/*``, ``/server/config``, ``/server/optimize``."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, Field, StrictBool, StrictInt

from gateway.dashboard import views
from gateway.deps import Clients, Settings
from gateway.dialects import dialect_router
from gateway.dialects.pytorch_if.envelope import ops_reply
from gateway.request_id import request_id_of
from meshserve.v1 import autoscaler_pb2 as apb
from services.common.errors import InvalidInput

router = dialect_router("pytorch_if", "pytorch-if operations")


@router.get("/autoscaler/stats", summary="Autoscaler statistics")
async def autoscaler_stats(request: Request, clients: Clients) -> dict[str, Any]:
    """The control loop, each target's replicas and the recent decisions with their reasons."""
    reply = await views.autoscaler_stats(clients)
    return ops_reply(request, **views.autoscaler_body(reply))


@router.get("/autoscaler/health", summary="Autoscaler health")
async def autoscaler_health(request: Request, clients: Clients, settings: Settings) -> dict[str, Any]:
    """Whether the autoscaler serves, its loop runs and its last evaluation went well."""
    check = await clients.check("autoscaler", settings.health_timeout_seconds)
    body: dict[str, Any] = {"success": True, "healthy": False, "status": check.status.lower()}
    if check.serving:
        reply = await views.autoscaler_stats(clients)
        body.update(
            healthy=reply.running and not reply.last_error,
            running=reply.running,
            driver=reply.driver,
            last_evaluation_time=reply.last_evaluation_time or None,
            last_error=reply.last_error or None,
        )
    else:
        body["error"] = check.error
    return {**body, "request_id": request_id_of(request)}


class ScaleBody(BaseModel):
    """A manual scale: a model (or ``*`` for the worker pool) and the replicas wanted."""

    model_name: str | None = Field(None, description="Model to scale; `*` or empty scales the worker pool.")
    target: str | None = Field(None, description="Same as model_name.")
    replicas: StrictInt | None = Field(
        None, ge=0, description="Replicas wanted (clamped to the policy bounds)."
    )
    target_instances: StrictInt | None = Field(None, ge=0, description="Same as replicas.")
    reason: str = Field("", description="Recorded with the decision.")


@router.post("/autoscaler/scale", summary="Scale model instances")
async def autoscaler_scale(request: Request, clients: Clients, body: ScaleBody) -> dict[str, Any]:
    """Scales by hand within the target's policy bounds; returns the decision taken."""
    replicas = body.replicas if body.replicas is not None else body.target_instances
    if replicas is None:
        raise InvalidInput("replicas is required", details={"field": "replicas"})
    target = body.model_name or body.target or "*"
    reply = await clients.call(
        clients.autoscaler.Scale,
        apb.ScaleRequest(
            target=target, replicas=replicas, reason=body.reason or "manual scale via /autoscaler/scale"
        ),
    )
    return ops_reply(request, decision=views.decision(reply.decision))


@router.get("/autoscaler/metrics", summary="Detailed autoscaler metrics")
async def autoscaler_metrics(request: Request, clients: Clients) -> dict[str, Any]:
    """Policies, per-target inputs and the inference statistics the loop reads."""
    scaler = await views.autoscaler_stats(clients)
    policies = await clients.call(clients.autoscaler.ListPolicies, apb.ListPoliciesRequest(), idempotent=True)
    reply = await views.stats(clients)
    return ops_reply(
        request,
        policies=[views.policy(p) for p in policies.policies],
        targets=[views.target(t) for t in scaler.targets],
        models=[views.model_stats(m) for m in reply.models],
        workers=len(reply.workers),
        evaluations=scaler.evaluations,
        decisions_total=scaler.decisions_total,
    )


@router.get("/server/config", summary="Server configuration")
async def server_config(request: Request, clients: Clients, settings: Settings) -> dict[str, Any]:
    """Gateway settings, service addresses and the scaling policies in force."""
    policies = await clients.call(clients.autoscaler.ListPolicies, apb.ListPoliciesRequest(), idempotent=True)
    ops = views.ops_settings(request)
    return ops_reply(
        request,
        server={
            "version": settings.version,
            "host": settings.host,
            "port": settings.port,
            "log_level": settings.log_level,
            "log_dir": str(ops.log_dir),
            "events_period_seconds": ops.events_period_seconds,
        },
        services=views.service_addresses(clients),
        scaling_policies=[views.policy(p) for p in policies.policies],
    )


class OptimizeBody(BaseModel):
    """Whether to carry out the recommendations or only list them."""

    apply: StrictBool = Field(False, description="Scale each target to the replicas its policy wants now.")


@router.post("/server/optimize", summary="Performance optimization")
async def server_optimize(
    request: Request, clients: Clients, body: OptimizeBody | None = None
) -> dict[str, Any]:
    """Compares each target's replicas with what its policy wants now; with ``apply``, scales to it."""
    scaler = await views.autoscaler_stats(clients)
    devices = await views.devices(clients)
    recommendations: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for t in scaler.targets:
        if t.desired_replicas and t.desired_replicas != t.replicas:
            recommendations.append(
                {
                    "target": t.target,
                    "replicas": t.replicas,
                    "recommended": t.desired_replicas,
                    "reason": t.last_reason,
                }
            )
            if body is not None and body.apply:
                reply = await clients.call(
                    clients.autoscaler.Scale,
                    apb.ScaleRequest(target=t.target, replicas=t.desired_replicas, reason="/server/optimize"),
                )
                actions.append(views.decision(reply.decision))
    if not devices.cuda_available:
        recommendations.append({"target": "devices", "reason": devices.summary, "recommended": "cpu"})
    return ops_reply(
        request,
        applied=bool(body and body.apply),
        recommendations=recommendations,
        actions=actions,
    )
