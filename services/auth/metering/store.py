"""The metering store: plans, usage, budgets and their alerts, allowances and analytics over one
:class:`~services.common.sqldb.SqlDatabase` (SQLite for one replica, PostgreSQL shared by several).
No transport imports; every method blocks (the servicer runs them in threads)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.auth.metering import periods
from services.auth.metering.budgets import Alert, Budget, BudgetStore
from services.auth.metering.forecast import Forecast, forecast
from services.auth.metering.plans import PlanStore
from services.auth.metering.schema import SCHEMA
from services.auth.metering.usage import Usage, UsageRow, UsageStore, check
from services.common.errors import InvalidInput
from services.common.plans import Plan
from services.common.sqldb import SqlDatabase


@dataclass(frozen=True)
class Allowance:
    """A tenant's quota and budget as they stand this month."""

    quota_tokens: int
    used_tokens: int
    reset_at: int
    budget_usd: float
    spent_usd: float
    priority: int


@dataclass(frozen=True)
class BudgetState:
    """A budget with this month's spending and the thresholds already reported."""

    budget: Budget
    spent_usd: float
    alerted: list[int]
    month: str


def plan_name(tenant: str, plan: str) -> str:
    """The plan a caller is on: the one named, else anonymous for the anonymous tenant, else free."""
    return plan or ("anonymous" if not tenant else "free")


class MeteringStore:
    """Everything ``MeteringService`` does, callable without gRPC."""

    def __init__(self, db: SqlDatabase) -> None:
        db.script(SCHEMA)
        self.db = db
        self.plans = PlanStore(db)
        self.usage = UsageStore(db)
        self.budgets = BudgetStore(db)

    def record(self, records: Sequence[Usage], at: float | None = None) -> tuple[int, list[Alert]]:
        """Stores a batch (each request id once, in one transaction) and returns the rows stored now
        and the budget thresholds it crossed, each reported by one call only."""
        at = periods.now() if at is None else at
        checked = [check(record, at) for record in records]
        stored = self.usage.insert(checked, self.plans.by_name())
        alerts: list[Alert] = []
        for tenant, month in sorted({(r.tenant, periods.month_of(r.finished_at)) for r in checked}):
            budget = self.budgets.get(tenant)
            if budget is None or budget.limit_usd <= 0:
                continue
            _, spent = self.usage.month_totals(tenant, month)
            alerts.extend(self.budgets.claim(budget, month, spent))
        return stored, alerts

    def allowance(self, tenant: str, plan: str, at: float | None = None) -> Allowance:
        """A tenant's token quota and use, reset time, budget and spending in the month of ``at``."""
        at = periods.now() if at is None else at
        name = plan_name(tenant, plan)
        plans = self.plans.by_name()
        if name not in plans:
            raise InvalidInput(
                f"unknown plan {name!r}", details={"field": "plan", "allowed": ",".join(plans)}
            )
        used, spent = self.usage.month_totals(tenant, periods.month_of(at))
        budget = self.budgets.get(tenant)
        return Allowance(
            quota_tokens=plans[name].monthly_tokens,
            used_tokens=used,
            reset_at=periods.next_month_start(at),
            budget_usd=budget.limit_usd if budget else 0.0,
            spent_usd=spent,
            priority=plans[name].priority,
        )

    def list_plans(self) -> list[Plan]:
        """Every plan."""
        return self.plans.list()

    def update_plan(self, plan: Plan) -> Plan:
        """Replaces a plan (validated); returns it as stored."""
        return self.plans.update(plan)

    def set_budget(self, budget: Budget, at: float | None = None) -> BudgetState:
        """Creates or replaces a tenant's budget; returns it with this month's figures."""
        self.budgets.set(budget)
        return self.budget(budget.tenant, at)

    def budget(self, tenant: str, at: float | None = None) -> BudgetState:
        """A tenant's budget (limit 0 and no thresholds when none is set) with this month's figures."""
        month = periods.month_of(periods.now() if at is None else at)
        budget = self.budgets.get(tenant) or Budget(tenant, 0.0, ())
        _, spent = self.usage.month_totals(tenant, month)
        return BudgetState(budget, spent, self.budgets.alerted(tenant, month), month)

    def query(
        self, tenant: str, model: str, date_from: str, date_to: str, at: float | None = None
    ) -> tuple[list[UsageRow], Forecast]:
        """Usage per day, tenant and model between two days (default: this month until today), and
        the forecast of this month's cost for the same tenant and model filters."""
        at = periods.now() if at is None else at
        first, last = periods.day_range(date_from, date_to, at)
        rows = self.usage.rows(tenant, model, first, last)
        month = periods.month_of(at)
        daily = self.usage.daily_costs(tenant, model, month)
        today = int(periods.day_of(at)[-2:])
        return rows, forecast(month, today, {int(day[-2:]): cost for day, cost in daily.items()})
