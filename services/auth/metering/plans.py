"""The plan table: seeded from the shipped plans on first start, then edited by admins.

Every replica seeds with ``ON CONFLICT DO NOTHING``, so a start never overwrites an admin's edit.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

from services.common.errors import InvalidInput, NotFound
from services.common.plans import DEFAULT_PLANS, PAY_PER_USE_PER_1K_TOKENS, Plan
from services.common.sqldb import SqlDatabase

COLUMNS = (
    "name, requests_per_hour, monthly_tokens, price_per_1k_tokens, model_prices, priority, monthly_fee_usd"
)


def _row(plan: Plan) -> tuple[Any, ...]:
    return (
        plan.name,
        plan.requests_per_hour,
        plan.monthly_tokens,
        plan.price_per_1k_tokens,
        json.dumps(plan.model_prices, sort_keys=True),
        plan.priority,
        plan.monthly_fee_usd,
    )


def _plan(row: tuple[Any, ...]) -> Plan:
    name, per_hour, tokens, price, prices, priority, fee = row
    return Plan(
        name=str(name),
        requests_per_hour=int(per_hour),
        monthly_tokens=int(tokens),
        priority=int(priority),
        monthly_fee_usd=float(fee),
        price_per_1k_tokens=float(price),
        model_prices={str(k): float(v) for k, v in json.loads(str(prices)).items()},
    )


def _check_number(value: float, field: str) -> None:
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(f"{field} must be a non-negative number", details={"field": field, "value": value})


def validate(plan: Plan) -> Plan:
    """A plan fit to store: a shipped plan's name, every number finite and non-negative."""
    if plan.name not in DEFAULT_PLANS:
        raise InvalidInput(
            f"unknown plan {plan.name!r}",
            details={"field": "name", "value": plan.name[:40], "allowed": ",".join(DEFAULT_PLANS)},
        )
    for field in (
        "requests_per_hour",
        "monthly_tokens",
        "priority",
        "price_per_1k_tokens",
        "monthly_fee_usd",
    ):
        _check_number(float(getattr(plan, field)), field)
    for model, price in plan.model_prices.items():
        if not model:
            raise InvalidInput("model_prices needs model names", details={"field": "model_prices"})
        _check_number(price, "model_prices")
    return plan


class PlanStore:
    """Plans by name."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db
        placeholders = ", ".join("?" * 7)
        self._db.execute_many(
            f"INSERT INTO plans ({COLUMNS}) VALUES ({placeholders}) ON CONFLICT (name) DO NOTHING",
            [_row(plan) for plan in DEFAULT_PLANS.values()],
        )

    def list(self) -> list[Plan]:
        """Every plan, by priority then name."""
        rows = self._db.all(f"SELECT {COLUMNS} FROM plans ORDER BY priority, name")
        return [_plan(row) for row in rows]

    def by_name(self) -> dict[str, Plan]:
        """Every plan by its name."""
        return {plan.name: plan for plan in self.list()}

    def get(self, name: str) -> Plan:
        """One plan; NotFound when no plan has that name."""
        row = self._db.one(f"SELECT {COLUMNS} FROM plans WHERE name = ?", (name,))
        if row is None:
            raise NotFound(f"plan {name!r} not found", details={"plan": name[:40]})
        return _plan(row)

    def update(self, plan: Plan) -> Plan:
        """Replaces a plan's limits, prices and priority; returns it as stored."""
        validate(plan)
        name, *values = _row(replace(plan, model_prices=dict(plan.model_prices)))
        self._db.execute(
            "UPDATE plans SET requests_per_hour = ?, monthly_tokens = ?, price_per_1k_tokens = ?, "
            "model_prices = ?, priority = ?, monthly_fee_usd = ? WHERE name = ?",
            (*values, name),
        )
        return self.get(plan.name)


def price_of(plans: dict[str, Plan], plan: str, model: str) -> float:
    """The price per 1,000 tokens of a model on a plan; an unknown plan pays the pay-per-use rate."""
    known = plans.get(plan)
    return known.price_of(model) if known is not None else PAY_PER_USE_PER_1K_TOKENS
