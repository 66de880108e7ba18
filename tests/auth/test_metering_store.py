"""The metering store on SQLite and on a real PostgreSQL alike: each request id stored once, costs
priced from the plan table when stored, budget thresholds reported once even when two connections
(two auth replicas) record at the same moment, allowances that reset at the UTC month's turn, usage
rows with latency percentiles, and the plan table's and budgets' validation."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.auth.metering.budgets import Alert, Budget
from services.auth.metering.store import MeteringStore
from services.auth.metering.usage import Usage
from services.common.errors import InvalidInput
from services.common.pg_sqldb import open_database
from services.common.plans import Plan
from tests.servers import fresh_database

Opener = Callable[[], MeteringStore]


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


JUNE_15 = at(2025, 6, 15)


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens a new store (a new connection, as another replica would) over one database."""
    if request.param == "sqlite":
        return lambda: MeteringStore(open_database("", tmp_path / "auth.db"))
    url = fresh_database(request.getfixturevalue("postgres_url"))
    return lambda: MeteringStore(open_database(url, tmp_path / "unused"))


def usage(
    request_id: str,
    tenant: str = "t1",
    *,
    plan: str = "pro",
    model: str = "m",
    prompt: int = 1000,
    completion: int = 500,
    latency: float = 10.0,
    outcome: str = "ok",
    finished: float = JUNE_15,
    units: float = 0.0,
) -> Usage:
    return Usage(
        request_id,
        tenant,
        "",
        plan,
        model,
        "openai",
        prompt,
        completion,
        units,
        "tokens",
        latency,
        outcome,
        finished,
    )


def test_a_request_id_is_stored_once(opener: Opener) -> None:
    store = opener()
    assert store.record([usage("a"), usage("b"), usage("a")], at=JUNE_15)[0] == 2
    assert store.record([usage("b"), usage("c")], at=JUNE_15)[0] == 1
    assert opener().record([usage("c")], at=JUNE_15)[0] == 0
    rows, _ = store.query("t1", "", "2025-06-01", "2025-06-30", at=JUNE_15)
    assert [(r.requests, r.prompt_tokens, r.completion_tokens) for r in rows] == [(3, 3000, 1500)]


def test_cost_is_priced_from_the_plan_table_when_stored(opener: Opener) -> None:
    store = opener()
    pro = next(p for p in store.list_plans() if p.name == "pro")
    store.update_plan(Plan(**{**pro.__dict__, "model_prices": {"big": 0.05}}))
    store.record(
        [
            usage("cheap", model="m"),  # 1.5k tokens at the plan's 0.002
            usage("dear", model="big"),  # 1.5k tokens at the model's 0.05
            usage("odd", plan="no-such-plan", model="big"),  # pay-per-use rate 0.002
            usage("tensor", prompt=0, completion=0, units=4096),  # no tokens: no cost
        ],
        at=JUNE_15,
    )
    rows = {r.model: r.cost_usd for r in store.query("t1", "", "", "", at=JUNE_15)[0]}
    assert rows["m"] == pytest.approx(0.003)
    assert rows["big"] == pytest.approx(0.075 + 0.003)
    # A later price change leaves recorded costs as they were.
    store.update_plan(Plan(**{**pro.__dict__, "price_per_1k_tokens": 1.0}))
    assert store.allowance("t1", "pro", at=JUNE_15).spent_usd == pytest.approx(0.081)


def test_allowance_counts_the_utc_month_and_resets_at_its_end(opener: Opener) -> None:
    store = opener()
    last_second_of_june, first_second_of_july = at(2025, 6, 30, 23, 59, 59), at(2025, 7, 1, 0, 0, 0)
    store.record(
        [
            usage("june", prompt=100, completion=20, finished=last_second_of_june),
            usage("july", prompt=7, completion=3, finished=first_second_of_july),
            usage("other tenant", tenant="t2", finished=last_second_of_june),
        ],
        at=JUNE_15,
    )
    store.set_budget(Budget("t1", 5.0, ()))
    june = store.allowance("t1", "pro", at=JUNE_15)
    assert (june.quota_tokens, june.used_tokens, june.priority, june.budget_usd) == (100_000, 120, 10, 5.0)
    assert june.reset_at == int(first_second_of_july)
    assert june.spent_usd == pytest.approx(0.12 * 0.002)
    july = store.allowance("t1", "free", at=first_second_of_july)
    assert (july.quota_tokens, july.used_tokens, july.priority) == (1_000, 10, 0)
    assert store.allowance("t1", "pro", at=at(2025, 12, 31, 23, 59, 59)).reset_at == int(at(2026, 1, 1, 0))
    anonymous = store.allowance("", "", at=JUNE_15)
    assert (anonymous.quota_tokens, anonymous.used_tokens) == (0, 0)
    with pytest.raises(InvalidInput) as bad:
        store.allowance("t1", "platinum", at=JUNE_15)
    assert bad.value.details["field"] == "plan"


def test_each_threshold_is_reported_once_a_month(opener: Opener) -> None:
    store = opener()
    # 1.5k tokens at 0.002 = $0.003 a record; limit $0.01: 50% at 2 records, 80% at 3, 100% at 4.
    assert store.set_budget(Budget("t1", 0.01, (100, 50, 80, 50)), at=JUNE_15).budget.alert_thresholds == (
        50,
        80,
        100,
    )
    assert store.record([usage("1")], at=JUNE_15)[1] == []
    _, alerts = store.record([usage("2")], at=JUNE_15)
    assert [(a.tenant, a.threshold_percent, a.month) for a in alerts] == [("t1", 50, "2025-06")]
    assert alerts[0].spent_usd == pytest.approx(0.006) and alerts[0].limit_usd == 0.01
    _, alerts = store.record([usage("3"), usage("4"), usage("5", tenant="no budget")], at=JUNE_15)
    assert [a.threshold_percent for a in alerts] == [80, 100]
    assert store.record([usage("6")], at=JUNE_15)[1] == []
    state = store.budget("t1", at=JUNE_15)
    assert state.alerted == [50, 80, 100] and state.month == "2025-06"
    assert state.spent_usd == pytest.approx(0.015)
    july = [usage(f"j{n}", finished=at(2025, 7, 2)) for n in range(4)]
    assert [a.threshold_percent for a in store.record(july, at=at(2025, 7, 2))[1]] == [50, 80, 100]


def test_two_replicas_recording_at_once_report_each_threshold_once(opener: Opener) -> None:
    replicas = [opener(), opener()]
    rounds = 8
    for store in replicas[:1]:
        for n in range(rounds):
            store.set_budget(Budget(f"tenant{n}", 0.001, (10, 50, 100)))
    reported: list[Alert] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)

    def record(index: int) -> None:
        for n in range(rounds):
            barrier.wait()
            # Each batch alone crosses every threshold ($0.003 against $0.001).
            _, alerts = replicas[index].record([usage(f"{index}-{n}", tenant=f"tenant{n}")], at=JUNE_15)
            with lock:
                reported.extend(alerts)

    threads = [threading.Thread(target=record, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    pairs = sorted((a.tenant, a.threshold_percent) for a in reported)
    assert pairs == sorted((f"tenant{n}", t) for n in range(rounds) for t in (10, 50, 100))


def test_usage_rows_per_day_tenant_and_model_with_latency_percentiles(opener: Opener) -> None:
    store = opener()
    june_2 = at(2025, 6, 2)
    records = [usage(f"l{n}", latency=float(n), finished=june_2) for n in range(1, 101)]
    records += [usage("e1", outcome="error", finished=june_2, model="other", units=2.5)]
    records += [usage("e2", outcome="cancelled", finished=june_2, model="other", units=1.5, latency=4.0)]
    records += [usage("x", tenant="t2", finished=at(2025, 6, 3)), usage("may", finished=at(2025, 5, 31))]
    store.record(records, at=JUNE_15)
    rows = store.query("", "", "2025-06-01", "2025-06-30", at=JUNE_15)[0]
    assert [(r.day, r.tenant, r.model, r.requests) for r in rows] == [
        ("2025-06-02", "t1", "m", 100),
        ("2025-06-02", "t1", "other", 2),
        ("2025-06-03", "t2", "m", 1),
    ]
    assert rows[0].latency_p50_ms == 50.5 and rows[0].latency_p95_ms == 95.05
    assert rows[0].errors == 0 and rows[0].cost_usd == pytest.approx(100 * 0.003)
    assert (rows[1].errors, rows[1].units, rows[1].latency_p50_ms) == (2, 4.0, 7.0)
    assert [r.model for r in store.query("t1", "other", "", "", at=JUNE_15)[0]] == ["other"]
    assert [r.day for r in store.query("t1", "", "2025-05-31", "2025-05-31", at=JUNE_15)[0]] == ["2025-05-31"]
    assert store.query("t3", "", "", "", at=JUNE_15)[0] == []
    for date_from, date_to, field in (
        ("June", "", "date_from"),
        ("", "2025-6-1", "date_to"),
        ("2025-06-02", "2025-06-01", "date_from"),
    ):
        with pytest.raises(InvalidInput) as bad:
            store.query("", "", date_from, date_to, at=JUNE_15)
        assert bad.value.details["field"] == field


def test_interpolated_percentiles_are_rounded_to_the_microsecond(opener: Opener) -> None:
    store = opener()
    june_2 = at(2025, 6, 2)
    store.record(
        [usage(f"r{n}", latency=ms, finished=june_2) for n, ms in enumerate((512.43, 11131.3))], at=JUNE_15
    )
    (row,) = store.query("", "", "2025-06-01", "2025-06-30", at=JUNE_15)[0]
    assert (row.latency_p50_ms, row.latency_p95_ms) == (5821.865, 10600.356)  # not 10600.356499999998


def test_the_forecast_covers_this_month_of_the_tenants_and_models_asked_for(opener: Opener) -> None:
    store = opener()
    store.record(
        [usage(f"d{d}", finished=at(2025, 6, d), prompt=1000 * d, completion=0) for d in (1, 2, 3, 4)]
        + [usage("elsewhere", tenant="t2", finished=at(2025, 6, 4)), usage("may", finished=at(2025, 5, 4))],
        at=at(2025, 6, 4),
    )
    _, projection = store.query("t1", "", "2025-06-04", "2025-06-04", at=at(2025, 6, 4))
    # $0.002 times the day: a perfect line; 26 days left, sum of days 5..30 = 455.
    assert projection.month == "2025-06" and projection.spent_usd == pytest.approx(0.02)
    assert projection.projected_usd == pytest.approx(0.02 + 0.002 * 455)
    assert projection.projected_low_usd == pytest.approx(projection.projected_high_usd)
    assert "linear trend" in projection.method


def test_plans_are_seeded_once_and_edits_are_validated(opener: Opener) -> None:
    store = opener()
    free = next(p for p in store.list_plans() if p.name == "free")
    assert (free.monthly_tokens, free.price_per_1k_tokens) == (1_000, 0.002)
    edited = store.update_plan(
        Plan(**{**free.__dict__, "monthly_tokens": 5_000, "model_prices": {"m": 0.01}})
    )
    assert edited.monthly_tokens == 5_000 and edited.model_prices == {"m": 0.01}
    again = opener()  # a restart (or a second replica) seeds nothing over the edit
    assert next(p for p in again.list_plans() if p.name == "free").monthly_tokens == 5_000
    cases = {
        "name": {"name": "platinum"},
        "monthly_tokens": {"monthly_tokens": -1},
        "price_per_1k_tokens": {"price_per_1k_tokens": float("nan")},
        "model_prices": {"model_prices": {"m": -0.5}},
        "priority": {"priority": -3},
    }
    for field, change in cases.items():
        with pytest.raises(InvalidInput) as bad:
            store.update_plan(Plan(**{**free.__dict__, **change}))
        assert bad.value.details["field"] == field


def test_budgets_are_validated_and_default_to_none(opener: Opener) -> None:
    store = opener()
    empty = store.budget("t9", at=JUNE_15)
    assert (empty.budget.limit_usd, empty.budget.alert_thresholds, empty.alerted) == (0.0, (), [])
    for limit, thresholds, field in (
        (-1.0, (50,), "limit_usd"),
        (1.0, (0,), "alert_thresholds"),
        (1.0, (1001,), "alert_thresholds"),
    ):
        with pytest.raises(InvalidInput) as bad:
            store.set_budget(Budget("t9", limit, thresholds))
        assert bad.value.details["field"] == field
    assert store.set_budget(Budget("t9", 2.5, ())).budget.alert_thresholds == (50, 80, 100)
    assert store.set_budget(Budget("t9", 3.0, (90,))).budget == Budget("t9", 3.0, (90,))
