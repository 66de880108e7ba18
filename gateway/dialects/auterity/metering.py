"""Document 003 analytics of tenants' metering: ``GET /api/analytics/usage``, ``GET /api/analytics/plans``,
``PUT /api/analytics/plans/{name}``, ``GET`` and ``PUT /api/analytics/budget``; JSON to and from
``MeteringService`` (served by the auth process), nothing more.

Whose usage and budget a caller reaches, with authentication on: a user their own (their user id is
their tenant; asking for another tenant is 403), an admin anyone's (usage: every tenant unless
``tenant`` names one). The permission table lets any authenticated caller in and admins alone edit
plans. With authentication off (local mode) every route is open, as every other route is: usage of
every tenant unless ``tenant`` names one, and an anonymous caller's budget is that of the anonymous
tenant ("").
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictFloat, StrictInt

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.auterity.responses import stamped
from gateway.security.deps import optional_principal
from meshserve.v1 import metering_pb2 as pb
from services.common.errors import PermissionDenied
from services.common.messages import as_dict

router = dialect_router("auterity_analytics", "auterity analytics")

#: What the messages' integer fields hold (the service checks the ranges that matter).
Int64 = Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)]
Int32 = Annotated[StrictInt, Field(ge=-(2**31), le=2**31 - 1)]


def _tenant(request: Request, asked: str | None, everyone: bool) -> str:
    """The tenant a call acts on: ``asked`` when the caller may, else the caller's own; ``everyone``
    says that "" (all tenants) is what an unnamed tenant means to those allowed to see all."""
    principal = optional_principal(request)
    own = principal.user_id if principal else ""
    if not request.app.state.security.settings.enable_auth or (principal and principal.has_role("admin")):
        if asked is not None:
            return asked
        return "" if everyone else own
    if asked is not None and asked != own:
        raise PermissionDenied(
            "a user may only see and set their own usage and budget",
            details={"tenant": asked[:64], "role": principal.role if principal else "anonymous"},
            suggestion="leave out tenant, or ask an admin",
        )
    return own


def _row(row: pb.UsageRow) -> dict[str, Any]:
    return {
        "date": row.day,
        "tenant": row.tenant,
        "model": row.model,
        "requests": row.requests,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "total_tokens": row.prompt_tokens + row.completion_tokens,
        "cost_usd": row.cost_usd,
        "latency_p50_ms": row.latency_p50_ms,
        "latency_p95_ms": row.latency_p95_ms,
        "errors": row.errors,
        "units": row.units,
    }


@router.get("/api/analytics/usage", summary="Usage and cost")
async def usage(
    request: Request,
    clients: Clients,
    date_from: Annotated[
        str | None, Query(description="First day, YYYY-MM-DD (UTC); default the month's first.")
    ] = None,
    date_to: Annotated[
        str | None, Query(description="Last day, YYYY-MM-DD (UTC), inclusive; default today.")
    ] = None,
    model: Annotated[str | None, Query(description="Only this model.")] = None,
    tenant: Annotated[
        str | None, Query(description="Only this tenant (user id); others' need admin.")
    ] = None,
) -> JSONResponse:
    """Usage per day, tenant and model, with the month's projected cost."""
    who = _tenant(request, tenant, everyone=True)
    reply = await clients.call(
        clients.metering.QueryUsage,
        pb.QueryUsageRequest(tenant=who, model=model or "", date_from=date_from or "", date_to=date_to or ""),
        idempotent=True,
    )
    forecast = reply.forecast
    return stamped(
        request,
        {
            "usage": [_row(r) for r in reply.rows],
            "count": len(reply.rows),
            "total_cost_usd": sum(r.cost_usd for r in reply.rows),
            "forecast": as_dict(forecast),
            "filters": {"tenant": who or None, "model": model, "date_from": date_from, "date_to": date_to},
        },
    )


@router.get("/api/analytics/plans", summary="Plans")
async def plans(request: Request, clients: Clients) -> JSONResponse:
    """Every plan's limits, prices and priority."""
    reply = await clients.call(clients.metering.ListPlans, pb.ListPlansRequest(), idempotent=True)
    return stamped(request, {"plans": [as_dict(p) for p in reply.plans]})


class PlanBody(BaseModel):
    """A plan's new values, whole (PUT replaces it)."""

    requests_per_hour: Int64 = Field(description="Requests per hour; 0 for unlimited.")
    monthly_tokens: Int64 = Field(description="Tokens a month; 0 for unlimited.")
    price_per_1k_tokens: StrictFloat = Field(description="US dollars per 1,000 tokens.")
    model_prices: dict[str, StrictFloat] = Field(default_factory=dict, description="Prices by model name.")
    priority: Int32 = Field(description="Queue priority; higher is served sooner.")
    monthly_fee_usd: StrictFloat = Field(0.0, description="Monthly fee in US dollars.")


@router.put(
    "/api/analytics/plans/{name}", operation_id="auterity_analytics_plan_update", summary="Edit a plan"
)
async def update_plan(request: Request, clients: Clients, name: str, body: PlanBody) -> JSONResponse:
    """Replaces a plan's limits, prices and priority (admins)."""
    reply = await clients.call(
        clients.metering.UpdatePlan,
        pb.UpdatePlanRequest(plan=pb.PlanLimits(name=name, **body.model_dump())),
        idempotent=True,
    )
    return stamped(request, {"plan": as_dict(reply.plan)})


@router.get("/api/analytics/budget", summary="Budget")
async def budget(
    request: Request,
    clients: Clients,
    tenant: Annotated[str | None, Query(description="Whose budget (admins); default the caller's.")] = None,
) -> JSONResponse:
    """A tenant's monthly limit, alert thresholds, and this month's spending and alerts."""
    who = _tenant(request, tenant, everyone=False)
    reply = await clients.call(clients.metering.GetBudget, pb.GetBudgetRequest(tenant=who), idempotent=True)
    return stamped(request, {"budget": as_dict(reply.budget)})


class BudgetBody(BaseModel):
    """A tenant's monthly budget."""

    limit_usd: StrictFloat = Field(description="Monthly spending limit in US dollars; 0 for none.")
    alert_thresholds: list[Int32] = Field(
        default_factory=list, description="Percent of the limit to alert at (1..1000); default 50, 80, 100."
    )
    tenant: str | None = Field(None, description="Whose budget (admins); default the caller's.")


@router.put("/api/analytics/budget", operation_id="auterity_analytics_budget_set", summary="Set the budget")
async def set_budget(request: Request, clients: Clients, body: BudgetBody) -> JSONResponse:
    """Sets a tenant's monthly limit and alert thresholds."""
    who = _tenant(request, body.tenant, everyone=False)
    reply = await clients.call(
        clients.metering.SetBudget,
        pb.SetBudgetRequest(
            budget=pb.Budget(tenant=who, limit_usd=body.limit_usd, alert_thresholds=body.alert_thresholds)
        ),
        idempotent=True,
    )
    return stamped(request, {"budget": as_dict(reply.budget)})
