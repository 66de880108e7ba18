"""The month's projected cost from its daily costs so far, with a 90% prediction interval.

- Three or more days with usage: a straight line through the daily costs of the last seven of them
  (``scipy.stats.linregress``, x the day of the month), summed over the days left in the month. The
  interval is the prediction interval of that sum, ``t(0.95, n-2) * s * sqrt(m + m²/n + (Σx' - m·x̄)²/Sxx)``
  for ``m`` future days ``x'``; a line through two points has no residual spread, hence three.
- Two days: their mean per remaining day, with the interval of the sum of ``m`` future values,
  ``t(0.95, 1) * s * sqrt(m + m²/2)``.
- One day: its cost per remaining day; one day shows no spread, so the interval is the projection
  itself, and the method says so.

Projections never go below what was spent: a day costs nothing or more. Today counts as it stands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.auth.metering.periods import days_in_month

#: Days with usage the trend is fitted over.
WINDOW = 7
#: Coverage of the prediction interval.
COVERAGE = 0.90


@dataclass(frozen=True)
class Forecast:
    """The month's cost so far and its projection, in US dollars."""

    month: str
    spent_usd: float
    projected_usd: float
    projected_low_usd: float
    projected_high_usd: float
    method: str


def _stats() -> Any:
    """``scipy.stats``, imported on first use: 1.0 of the auth service's 2.0 s of imports at start."""
    from scipy import stats

    return stats


def _t(dof: int) -> float:
    return float(_stats().t.ppf(0.5 + COVERAGE / 2, dof))


def _interval(dof: int) -> str:
    return f"90% prediction interval from Student's t with {dof} degree{'' if dof == 1 else 's'} of freedom"


def _trend(days: list[int], costs: list[float], future: list[int]) -> tuple[float, float, str]:
    x, y = np.asarray(days, dtype=float), np.asarray(costs, dtype=float)
    n, m = len(x), len(future)
    fit = _stats().linregress(x, y)
    point = float(sum(fit.intercept + fit.slope * d for d in future))
    residuals = y - (fit.intercept + fit.slope * x)
    s2 = float(residuals @ residuals) / (n - 2)
    sxx = float(((x - x.mean()) ** 2).sum())
    variance = s2 * (m + m * m / n + (sum(future) - m * x.mean()) ** 2 / sxx)
    half = _t(n - 2) * math.sqrt(variance)
    method = (
        f"linear trend of the daily cost over the last {n} days with usage (least squares), projected "
        f"over the {m} days left in the month; {_interval(n - 2)}"
    )
    return point, half, method


def _mean(costs: list[float], m: int) -> tuple[float, float, str]:
    n = len(costs)
    mean = sum(costs) / n
    if n == 1:
        method = (
            f"the cost of the 1 day with usage, repeated over the {m} days left in the month; one day "
            "shows no spread, so there is no 90% interval (low and high equal the projection)"
        )
        return mean * m, 0.0, method
    s2 = float(np.var(np.asarray(costs, dtype=float), ddof=1))
    half = _t(n - 1) * math.sqrt(s2 * (m + m * m / n))
    method = (
        f"mean daily cost of the {n} days with usage, repeated over the {m} days left in the month (too "
        f"few days for a trend); {_interval(n - 1)}"
    )
    return mean * m, half, method


def forecast(month: str, today: int, daily: dict[int, float]) -> Forecast:
    """The projection of a "YYYY-MM" month on its day ``today`` (1-based; past the month's last day
    for a month that is over) from the costs of its days (day of the month → US dollars)."""
    last = days_in_month(month)
    today = min(today, last)
    days = sorted(d for d in daily if d <= today)
    spent = float(sum(daily[d] for d in days))
    future = list(range(today + 1, last + 1))
    if not days:
        return Forecast(month, 0.0, 0.0, 0.0, 0.0, "no usage this month yet: nothing to project")
    if not future:
        return Forecast(
            month, spent, spent, spent, spent, "the month is over: the projection is what was spent"
        )
    window = days[-WINDOW:]
    costs = [daily[d] for d in window]
    if len(window) >= 3:
        point, half, method = _trend(window, costs, future)
    else:
        point, half, method = _mean(costs, len(future))
    return Forecast(
        month=month,
        spent_usd=spent,
        projected_usd=spent + max(point, 0.0),
        projected_low_usd=spent + max(point - half, 0.0),
        projected_high_usd=spent + max(point + half, 0.0),
        method=method,
    )
