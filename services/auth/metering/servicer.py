"""gRPC face of ``MeteringService``: translation only; the logic lives in :mod:`.store`, whose
blocking database work runs in threads."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc

from meshserve.v1 import metering_pb2 as pb
from meshserve.v1 import metering_pb2_grpc as pb_grpc
from services.auth.metering.budgets import Budget
from services.auth.metering.store import BudgetState, MeteringStore
from services.auth.metering.usage import Usage
from services.common.messages import message_from, record_from
from services.common.plans import Plan


def budget_to_proto(state: BudgetState) -> pb.Budget:
    """A budget with this month's figures as its message."""
    return message_from(
        pb.Budget, state.budget, spent_usd=state.spent_usd, alerted=state.alerted, month=state.month
    )


@dataclass(eq=False)
class MeteringServicer(pb_grpc.MeteringServiceServicer):
    """Usage records, plans, allowances, budgets and usage analytics."""

    store: MeteringStore

    async def RecordUsage(
        self, request: pb.RecordUsageRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordUsageResponse:
        """Stores each record once; the thresholds the batch crossed."""
        records = [record_from(Usage, r) for r in request.records]
        stored, alerts = await asyncio.to_thread(self.store.record, records)
        return pb.RecordUsageResponse(stored=stored, alerts=[message_from(pb.BudgetAlert, a) for a in alerts])

    async def GetAllowance(
        self, request: pb.GetAllowanceRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAllowanceResponse:
        """A tenant's quota and budget this month."""
        allowance = await asyncio.to_thread(self.store.allowance, request.tenant, request.plan)
        return message_from(pb.GetAllowanceResponse, allowance)

    async def ListPlans(
        self, request: pb.ListPlansRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPlansResponse:
        """Every plan."""
        plans = await asyncio.to_thread(self.store.list_plans)
        return pb.ListPlansResponse(plans=[message_from(pb.PlanLimits, p) for p in plans])

    async def UpdatePlan(
        self, request: pb.UpdatePlanRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdatePlanResponse:
        """Replaces a plan's limits, prices and priority."""
        plan = await asyncio.to_thread(self.store.update_plan, record_from(Plan, request.plan))
        return pb.UpdatePlanResponse(plan=message_from(pb.PlanLimits, plan))

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
            rows=[message_from(pb.UsageRow, r) for r in rows],
            forecast=message_from(pb.CostForecast, projection),
        )

    async def ListBudgetAlerts(
        self, request: pb.ListBudgetAlertsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListBudgetAlertsResponse:
        """Thresholds crossed after a time, oldest first."""
        alerts = await asyncio.to_thread(self.store.budgets.since, request.since)
        return pb.ListBudgetAlertsResponse(alerts=[message_from(pb.BudgetAlert, a) for a in alerts])
