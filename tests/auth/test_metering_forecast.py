"""The month's cost forecast against numbers worked out by hand: a perfect line, a noisy line with
its t-based 90% prediction interval, the daily mean for two days and for one, and the edges."""

from __future__ import annotations

import math

import pytest

from services.auth.metering.forecast import forecast

T_95_1DOF = 6.313751514675  # Student's t, 95th percentile, 1 degree of freedom


def test_a_perfect_line_is_projected_without_spread() -> None:
    # June has 30 days; $1 on day 1 rising by $1 a day; days 5..30 sum to 455.
    result = forecast("2025-06", 4, {1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0})
    assert result.spent_usd == pytest.approx(10.0)
    assert result.projected_usd == pytest.approx(10.0 + 455.0)
    assert result.projected_low_usd == pytest.approx(465.0) and result.projected_high_usd == pytest.approx(
        465.0
    )
    assert result.method.startswith("linear trend of the daily cost over the last 4 days")


def test_a_noisy_line_has_its_prediction_interval() -> None:
    # y = 1, 3, 2 on days 1..3: slope 0.5, intercept 1, residuals -0.5, 1, -0.5 (SSE 1.5, s² 1.5 with
    # 1 degree of freedom), x̄ 2, Sxx 2. Days 4..30: m = 27, Σx' = 459.
    result = forecast("2025-06", 3, {1: 1.0, 2: 3.0, 3: 2.0})
    point = 27 * 1.0 + 0.5 * 459
    half = T_95_1DOF * math.sqrt(1.5 * (27 + 27 * 27 / 3 + (459 - 27 * 2) ** 2 / 2))
    assert result.projected_usd == pytest.approx(6.0 + point)
    assert result.projected_high_usd == pytest.approx(6.0 + point + half)
    assert result.projected_low_usd == pytest.approx(6.0)  # never below what was spent
    assert "90% prediction interval from Student's t with 1 degree of freedom" in result.method


def test_only_the_last_seven_days_with_usage_are_fitted() -> None:
    # An old spike on day 1, then a flat $2 a day on days 3..9 (day 2 without usage).
    daily = {1: 100.0, **{d: 2.0 for d in range(3, 10)}}
    result = forecast("2025-06", 9, daily)
    assert result.spent_usd == pytest.approx(114.0)
    assert result.projected_usd == pytest.approx(114.0 + 2.0 * 21)
    assert result.projected_high_usd == pytest.approx(result.projected_usd)
    assert "last 7 days" in result.method


def test_two_days_project_their_mean() -> None:
    # Mean 3, s² = 2 with 1 degree of freedom; 28 days left: half = t · sqrt(2 · (28 + 28²/2)).
    result = forecast("2025-06", 2, {1: 2.0, 2: 4.0})
    half = T_95_1DOF * math.sqrt(2.0 * (28 + 28 * 28 / 2))
    assert result.projected_usd == pytest.approx(6.0 + 3.0 * 28)
    assert result.projected_high_usd == pytest.approx(6.0 + 84.0 + half)
    assert result.projected_low_usd == pytest.approx(6.0)
    assert result.method.startswith("mean daily cost of the 2 days with usage")


def test_one_day_says_it_has_no_interval() -> None:
    result = forecast("2025-02", 10, {10: 1.5})  # February 2025: 18 days left
    assert result.projected_usd == pytest.approx(1.5 + 1.5 * 18)
    assert result.projected_low_usd == result.projected_high_usd == result.projected_usd
    assert "no 90% interval" in result.method


def test_nothing_to_project_and_a_month_that_is_over() -> None:
    empty = forecast("2025-06", 12, {})
    assert (empty.spent_usd, empty.projected_usd, empty.projected_high_usd) == (0.0, 0.0, 0.0)
    assert "nothing to project" in empty.method
    over = forecast("2025-06", 31, {29: 1.0, 30: 2.0})
    assert over.projected_usd == over.projected_low_usd == over.projected_high_usd == pytest.approx(3.0)
    assert "over" in over.method
