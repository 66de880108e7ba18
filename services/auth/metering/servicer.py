"""gRPC face of ``MeteringService``: translation only; the logic lives in :mod:`.store`, whose
blocking database work runs in threads."""

from __future__ import annotations

import asyncio

import grpc

from meshserve.v1 import metering_pb2 as pb
from meshserve.v1 import metering_pb2_grpc as pb_grpc
from services.auth.metering.budgets import Alert, Budget
from services.auth.metering.store import BudgetState, MeteringStore
from services.auth.metering.usage import Usage, UsageRow
from services.common.plans import Plan


def usage_from_proto(record: pb.UsageRecord) -> Usage:
    """A usage record from its message."""
    return Usage(
        request_id=record.request_id,
        tenant=record.tenant,
        api_key_id=record.api_key_id,
        plan=record.plan,
        model=record.model,
        surface=record.surface,
        prompt_tokens=record.prompt_tokens,
        completion_tokens=record.completion_tokens,
        units=record.units,
        unit=record.unit,
        latency_ms=record.latency_ms,
        outcome=record.outcome,
        finished_at=record.finished_at,
    )


def alert_to_proto(alert: Alert) -> pb.BudgetAlert:
    """A crossed threshold as its message."""
    return pb.BudgetAlert(
        tenant=alert.tenant,
        threshold_percent=alert.threshold_percent,
        limit_usd=alert.limit_usd,
        spent_usd=alert.spent_usd,
        month=alert.month,
        crossed_at=alert.crossed_at,
    )


def plan_to_proto(plan: Plan) -> pb.PlanLimits:
    """A plan as its message."""
    return pb.PlanLimits(
        name=plan.name,
        requests_per_hour=plan.requests_per_hour,
        monthly_tokens=plan.monthly_tokens,
        price_per_1k_tokens=plan.price_per_1k_tokens,
        model_prices=plan.model_prices,
        priority=plan.priority,
        monthly_fee_usd=plan.monthly_fee_usd,
    )


def plan_from_proto(plan: pb.PlanLimits) -> Plan:
    """A plan from its message."""
    return Plan(
        name=plan.name,
        requests_per_hour=plan.requests_per_hour,
        monthly_tokens=plan.monthly_tokens,
        priority=plan.priority,
        monthly_fee_usd=plan.monthly_fee_usd,
        price_per_1k_tokens=plan.price_per_1k_tokens,
        model_prices=dict(plan.model_prices),
    )


def budget_to_proto(state: BudgetState) -> pb.Budget:
    """A budget with this month's figures as its message."""
    return pb.Budget(
        tenant=state.budget.tenant,
        limit_usd=state.budget.limit_usd,
        alert_thresholds=list(state.budget.alert_thresholds),
        spent_usd=state.spent_usd,
        alerted=state.alerted,
        month=state.month,
    )


def row_to_proto(row: UsageRow) -> pb.UsageRow:
    """A usage row as its message."""
    return pb.UsageRow(**row.__dict__)


class MeteringServicer(pb_grpc.MeteringServiceServicer):
    """Usage records, plans, allowances, budgets and usage analytics."""

    def __init__(self, store: MeteringStore) -> None:
        self.store = store

    async def RecordUsage(
        self, request: pb.RecordUsageRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordUsageResponse:
        """Stores each record once; the thresholds the batch crossed."""
        records = [usage_from_proto(r) for r in request.records]
        stored, alerts = await asyncio.to_thread(self.store.record, records)
        return pb.RecordUsageResponse(stored=stored, alerts=[alert_to_proto(a) for a in alerts])

    async def GetAllowance(
        self, request: pb.GetAllowanceRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAllowanceResponse:
        """A tenant's quota and budget this month."""
        allowance = await asyncio.to_thread(self.store.allowance, request.tenant, request.plan)
        return pb.GetAllowanceResponse(**allowance.__dict__)

    async def ListPlans(
        self, request: pb.ListPlansRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPlansResponse:
        """Every plan."""
        plans = await asyncio.to_thread(self.store.list_plans)
        return pb.ListPlansResponse(plans=[plan_to_proto(p) for p in plans])

    async def UpdatePlan(
        self, request: pb.UpdatePlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdatePlanResponse:
        """Replaces a plan's limits, prices and priority."""
        plan = await asyncio.to_thread(self.store.update_plan, plan_from_proto(request.plan))
        return pb.UpdatePlanResponse(plan=plan_to_proto(plan))

    async def SetBudget(
        self, request: pb.SetBudgetRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetBudgetResponse:
        """Sets a tenant's monthly limit and alert thresholds."""
        budget = Budget(
            request.budget.tenant, request.budget.limit_usd, tuple(request.budget.alert_thresholds)
        )
        state = await asyncio.to_thread(self.store.set_budget, budget)
        return pb.SetBudgetResponse(budget=budget_to_proto(state))

    async def GetBudget(
        self, request: pb.GetBudgetRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetBudgetResponse:
        """A tenant's budget and this month's spending."""
        state = await asyncio.to_thread(self.store.budget, request.tenant)
        return pb.GetBudgetResponse(budget=budget_to_proto(state))

    async def QueryUsage(
        self, request: pb.QueryUsageRequest, context: grpc.aio.ServicerContext
    ) -> pb.QueryUsageResponse:
        """Usage per day, tenant and model, and the month's cost forecast."""
        rows, projection = await asyncio.to_thread(
            self.store.query, request.tenant, request.model, request.date_from, request.date_to
        )
        return pb.QueryUsageResponse(
            rows=[row_to_proto(r) for r in rows], forecast=pb.CostForecast(**projection.__dict__)
        )

    async def ListBudgetAlerts(
        self, request: pb.ListBudgetAlertsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListBudgetAlertsResponse:
        """Thresholds crossed after a time, oldest first."""
        alerts = await asyncio.to_thread(self.store.budgets.since, request.since)
        return pb.ListBudgetAlertsResponse(alerts=[alert_to_proto(a) for a in alerts])
