"""Usage records: one row per request id, priced when stored, summed per tenant and month, and
aggregated per day, tenant and model for analytics."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.auth.metering.periods import day_of, month_of
from services.auth.metering.plans import price_of
from services.common.errors import InvalidInput
from services.common.plans import Plan
from services.common.sqldb import SqlDatabase, set_filters

OUTCOMES = ("ok", "error", "cancelled")
COLUMNS = (
    "request_id, tenant, api_key_id, plan, model, surface, prompt_tokens, completion_tokens, units, unit, "
    "latency_ms, outcome, finished_at, cost_usd, day, month"
)


@dataclass(frozen=True)
class Usage:
    """One finished request's usage, as ``UsageRecord`` carries it."""

    request_id: str
    tenant: str
    api_key_id: str
    plan: str
    model: str
    surface: str
    prompt_tokens: int
    completion_tokens: int
    units: float
    unit: str
    latency_ms: float
    outcome: str
    finished_at: float

    @property
    def tokens(self) -> int:
        """Prompt and completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class UsageRow:
    """Usage of one tenant and model on one day."""

    day: str
    tenant: str
    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_p50_ms: float
    latency_p95_ms: float
    errors: int
    units: float


def check(record: Usage, at: float) -> Usage:
    """A record fit to store (``finished_at`` 0 becomes ``at``); InvalidInput names the bad field."""
    if not record.request_id:
        raise InvalidInput("every record needs a request_id", details={"field": "request_id"})
    for field in ("prompt_tokens", "completion_tokens", "units", "latency_ms", "finished_at"):
        value = float(getattr(record, field))
        if not math.isfinite(value) or value < 0:
            raise InvalidInput(
                f"{field} must be a non-negative number",
                details={"field": field, "request_id": record.request_id[:64]},
            )
    if record.outcome not in OUTCOMES:
        raise InvalidInput(
            f"outcome must be one of {', '.join(OUTCOMES)}",
            details={"field": "outcome", "value": record.outcome[:40], "request_id": record.request_id[:64]},
        )
    if not record.finished_at:
        record = Usage(**{**record.__dict__, "finished_at": at})
    return record


def cost_of(record: Usage, plans: dict[str, Plan]) -> float:
    """What a request costs: its tokens in thousands times its plan's price of its model."""
    return record.tokens / 1000 * price_of(plans, record.plan, record.model)


def _percentile(values: list[float], q: float) -> float:
    """The q-th percentile in milliseconds, to the microsecond (interpolation adds noise digits)."""
    return round(float(np.percentile(np.asarray(values, dtype=float), q)), 3) if values else 0.0


class UsageStore:
    """The usage table."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    def insert(self, records: list[Usage], plans: dict[str, Plan]) -> int:
        """Stores a batch in one transaction, each request id once; the rows stored now."""
        if not records:
            return 0
        rows = [
            (
                *(getattr(r, name) for name in COLUMNS.split(", ")[:13]),
                cost_of(r, plans),
                day_of(r.finished_at),
                month_of(r.finished_at),
            )
            for r in records
        ]
        placeholders = ", ".join("?" * 16)
        return self._db.execute_many(
            f"INSERT INTO usage ({COLUMNS}) VALUES ({placeholders}) ON CONFLICT (request_id) DO NOTHING",
            rows,
        )

    def month_totals(self, tenant: str, month: str) -> tuple[int, float]:
        """A tenant's tokens (prompt and completion) and cost in a month."""
        row = self._db.one(
            "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0), COALESCE(SUM(cost_usd), 0) "
            "FROM usage WHERE tenant = ? AND month = ?",
            (tenant, month),
        )
        assert row is not None
        return int(row[0]), float(row[1])

    def _where(self, tenant: str, model: str) -> tuple[str, tuple[Any, ...]]:
        clauses, params = set_filters(("tenant = ?", tenant), ("model = ?", model))
        return "".join(f" AND {c}" for c in clauses), params

    def rows(self, tenant: str, model: str, first_day: str, last_day: str) -> list[UsageRow]:
        """Usage per (day, tenant, model) between two days inclusive; empty filters match all."""
        where, params = self._where(tenant, model)
        found = self._db.all(
            "SELECT day, tenant, model, prompt_tokens, completion_tokens, cost_usd, latency_ms, outcome, units "
            f"FROM usage WHERE day >= ? AND day <= ?{where} ORDER BY day, tenant, model",
            (first_day, last_day, *params),
        )
        groups: dict[tuple[str, str, str], list[tuple[Any, ...]]] = defaultdict(list)
        for row in found:
            groups[(str(row[0]), str(row[1]), str(row[2]))].append(row)
        result = []
        for (day, who, name), members in groups.items():
            latencies = [float(m[6]) for m in members]
            result.append(
                UsageRow(
                    day=day,
                    tenant=who,
                    model=name,
                    requests=len(members),
                    prompt_tokens=sum(int(m[3]) for m in members),
                    completion_tokens=sum(int(m[4]) for m in members),
                    cost_usd=sum(float(m[5]) for m in members),
                    latency_p50_ms=_percentile(latencies, 50),
                    latency_p95_ms=_percentile(latencies, 95),
                    errors=sum(1 for m in members if m[7] != "ok"),
                    units=sum(float(m[8]) for m in members),
                )
            )
        return result

    def daily_costs(self, tenant: str, model: str, month: str) -> dict[str, float]:
        """Cost per day of a month ("YYYY-MM-DD" → US dollars), days without usage left out."""
        where, params = self._where(tenant, model)
        found = self._db.all(
            f"SELECT day, SUM(cost_usd) FROM usage WHERE month = ?{where} GROUP BY day ORDER BY day",
            (month, *params),
        )
        return {str(day): float(cost) for day, cost in found}
