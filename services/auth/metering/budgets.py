"""Tenants' monthly budgets and the thresholds already reported.

A threshold is reported once per tenant and month: whoever inserts its ``budget_alerts`` row (the
primary key admits one) reports it, so two replicas recording at once never both do.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

from services.common.errors import InvalidInput
from services.common.sqldb import SqlDatabase

#: Thresholds a budget alerts at when none are given, in percent of the limit.
DEFAULT_THRESHOLDS = (50, 80, 100)
MIN_THRESHOLD, MAX_THRESHOLD = 1, 1000
#: Sums of float costs may fall a hair short of a threshold they reach.
TOLERANCE_USD = 1e-9


@dataclass(frozen=True)
class Budget:
    """A tenant's monthly spending limit (0: none) and alert thresholds in percent."""

    tenant: str
    limit_usd: float
    alert_thresholds: tuple[int, ...]


@dataclass(frozen=True)
class Alert:
    """A threshold a tenant's spending crossed in a month."""

    tenant: str
    threshold_percent: int
    limit_usd: float
    spent_usd: float
    month: str
    crossed_at: float = 0.0


def validate(budget: Budget) -> Budget:
    """A budget fit to store: a finite non-negative limit and thresholds within 1..1000 percent,
    ascending without repeats (the defaults when none are given)."""
    if not math.isfinite(budget.limit_usd) or budget.limit_usd < 0:
        raise InvalidInput(
            "limit_usd must be a non-negative number",
            details={"field": "limit_usd", "value": budget.limit_usd},
        )
    for threshold in budget.alert_thresholds:
        if not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
            raise InvalidInput(
                f"alert_thresholds must lie within {MIN_THRESHOLD}..{MAX_THRESHOLD} percent",
                details={"field": "alert_thresholds", "value": threshold},
            )
    thresholds = tuple(sorted(set(budget.alert_thresholds))) or DEFAULT_THRESHOLDS
    return Budget(budget.tenant, budget.limit_usd, thresholds)


class BudgetStore:
    """Budgets by tenant and the alerts reported."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    def set(self, budget: Budget) -> Budget:
        """Creates or replaces a tenant's budget; returns it as stored."""
        budget = validate(budget)
        self._db.execute(
            "INSERT INTO budgets (tenant, limit_usd, alert_thresholds) VALUES (?, ?, ?) "
            "ON CONFLICT (tenant) DO UPDATE SET limit_usd = excluded.limit_usd, "
            "alert_thresholds = excluded.alert_thresholds",
            (budget.tenant, budget.limit_usd, json.dumps(list(budget.alert_thresholds))),
        )
        return budget

    def get(self, tenant: str) -> Budget | None:
        """A tenant's budget, None when it has none."""
        row = self._db.one("SELECT limit_usd, alert_thresholds FROM budgets WHERE tenant = ?", (tenant,))
        if row is None:
            return None
        return Budget(tenant, float(row[0]), tuple(int(t) for t in json.loads(str(row[1]))))

    def alerted(self, tenant: str, month: str) -> list[int]:
        """Thresholds already reported for a tenant in a month, ascending."""
        rows = self._db.all(
            "SELECT threshold FROM budget_alerts WHERE tenant = ? AND month = ? ORDER BY threshold",
            (tenant, month),
        )
        return [int(r[0]) for r in rows]

    def claim(self, budget: Budget, month: str, spent_usd: float) -> list[Alert]:
        """The thresholds ``spent_usd`` crosses that no one reported yet, each claimed by inserting
        its row: only the call whose insert changed a row reports it."""
        if budget.limit_usd <= 0:
            return []
        alerts = []
        now = time.time()
        for threshold in budget.alert_thresholds:
            if spent_usd + TOLERANCE_USD < budget.limit_usd * threshold / 100:
                break
            inserted = self._db.execute(
                "INSERT INTO budget_alerts (tenant, month, threshold, limit_usd, spent_usd, crossed_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, month, threshold) DO NOTHING",
                (budget.tenant, month, threshold, budget.limit_usd, spent_usd, now),
            )
            if inserted == 1:
                alerts.append(Alert(budget.tenant, threshold, budget.limit_usd, spent_usd, month, now))
        return alerts

    def since(self, after: float, limit: int = 500) -> list[Alert]:
        """Alerts recorded after a time, oldest first."""
        rows = self._db.all(
            "SELECT tenant, threshold, limit_usd, spent_usd, month, crossed_at FROM budget_alerts "
            "WHERE crossed_at > ? ORDER BY crossed_at, tenant, threshold LIMIT ?",
            (after, limit),
        )
        return [Alert(str(r[0]), int(r[1]), float(r[2]), float(r[3]), str(r[4]), float(r[5])) for r in rows]
