"""A/B experiments without transport: sticky weighted assignment, validation naming the field,
the store on SQLite and a real PostgreSQL, and scipy's tests on known data."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from services.common.errors import InvalidInput
from services.inference.experiments import stats
from services.inference.experiments.assign import choose
from services.inference.experiments.records import Arm, new_experiment
from services.inference.experiments.router import ExperimentRouter
from services.inference.experiments.store import ArmEvents, Event, ExperimentStore
from services.inference.jobs.pg_store import open_job_store
from tests.servers import fresh_database


def test_assignment_is_sticky_and_follows_the_weights() -> None:
    arms = (Arm("A", "m1", 70), Arm("B", "m2", 20), Arm("C", "m3", 10))
    picks = Counter(choose("exp_1", f"user-{i}", arms).name for i in range(20_000))
    assert picks["A"] / 20_000 == pytest.approx(0.7, abs=0.015)
    assert picks["B"] / 20_000 == pytest.approx(0.2, abs=0.015)
    assert picks["C"] / 20_000 == pytest.approx(0.1, abs=0.015)
    assert all(choose("exp_1", "alice", arms) == choose("exp_1", "alice", arms) for _ in range(10))
    # another experiment assigns independently of this one
    moved = sum(choose("exp_1", f"u{i}", arms) != choose("exp_2", f"u{i}", arms) for i in range(1000))
    assert moved > 300


def test_bad_experiments_are_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as info:
        new_experiment("t", "", [("", "m1", 1.0)], "error_rate", 0)
    assert info.value.details["field"] == "models"
    with pytest.raises(InvalidInput) as info:
        new_experiment("t", "", [("", "m1", 1.0), ("", "m2", -1.0)], "error_rate", 0)
    assert info.value.details["field"] == "config.traffic_split"
    with pytest.raises(InvalidInput) as info:
        new_experiment("t", "", [("", "m1", 1.0), ("", "m2", 1.0)], "vibes", 0)
    assert info.value.details["field"] == "config.success_metric"
    experiment = new_experiment("t", "", [("", "m1", 1.0), ("", "m2", 3.0)], "user_satisfaction", 60)
    assert experiment.route_model == "m1" and [a.name for a in experiment.arms] == ["A", "B"]
    assert experiment.state() == "running" and experiment.state(time.time() + 61) == "expired"
    assert experiment.arm("m2").name == "B"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ExperimentStore:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    if request.param == "postgres":
        url = fresh_database(request.getfixturevalue("postgres_url"))
    return ExperimentStore(open_job_store(url, tmp_path / "unused"))


def test_the_store_keeps_experiments_events_and_feedback(store: ExperimentStore) -> None:
    experiment = new_experiment("t", "", [("", "m1", 1.0), ("", "m2", 1.0)], "error_rate", 0)
    store.insert(experiment)
    assert store.get(experiment.experiment_id) == experiment
    assert [e.experiment_id for e in store.routing()] == [experiment.experiment_id]
    for i, (arm, ok) in enumerate([("A", True), ("A", False), ("B", True), ("B", True)]):
        store.record(Event(f"r{i}", experiment.experiment_id, arm, f"c{i % 2}", ok, 10.0 + i, 5, time.time()))
    store.record(
        Event("r0", experiment.experiment_id, "B", "x", True, 1.0, 1, time.time())
    )  # repeated id: ignored
    assert store.feedback("r2", 0.75) == (experiment.experiment_id, "B")
    assert store.feedback("nope", 1.0) is None
    events = store.events(experiment.experiment_id)
    assert events["A"] == ArmEvents([10.0], 1, 10, [], 2)
    assert events["B"] == ArmEvents([12.0, 13.0], 0, 10, [0.75], 2)
    assert store.finish(experiment.experiment_id, "promoted", "B", ("running",))
    assert not store.finish(experiment.experiment_id, "stopped", "", ("running",))
    promoted = store.get(experiment.experiment_id)
    assert promoted is not None and promoted.status == "promoted" and promoted.winner == "B"


def test_a_promoted_test_hands_its_model_name_to_the_winner(tmp_path: Path) -> None:
    """What smart routing reads to leave out a name that is now another model's alias."""
    store = ExperimentStore(open_job_store(f"sqlite:///{tmp_path / 'jobs.sqlite3'}", tmp_path / "unused"))
    router = ExperimentRouter(store, refresh_seconds=0.0)
    experiment = new_experiment("t", "", [("", "m1", 1.0), ("", "m2", 1.0)], "error_rate", 0)
    store.insert(experiment)
    assert router.promoted_to("m1") is None  # running: the name still splits between the arms
    assert router.route("m1", "caller", "r1") is not None
    assert store.finish(experiment.experiment_id, "promoted", "B", ("running",))
    assert router.promoted_to("m1") == "m2"
    routed = router.route("m1", "caller", "r2")
    assert routed is not None and routed.model == "m2"
    assert router.promoted_to("m2") is None and router.promoted_to("other") is None


def test_scipy_tests_find_real_differences_and_not_noise() -> None:
    experiment = new_experiment("t", "", [("", "m1", 1.0), ("", "m2", 1.0)], "error_rate", 0)
    errors = {"A": ArmEvents([1.0] * 190, 10, 0, [], 19), "B": ArmEvents([1.0] * 140, 60, 0, [], 20)}
    [test] = stats.compare(experiment, errors, "error_rate")
    assert test.test == "chi2_contingency" and test.significant and test.better == "A" and test.p_value < 1e-6
    same = {"A": ArmEvents([1.0] * 180, 20, 0, [], 19), "B": ArmEvents([1.0] * 178, 22, 0, [], 20)}
    assert not stats.compare(experiment, same, "error_rate")[0].significant
    slow = {
        "A": ArmEvents([10.0 + i % 7 for i in range(50)], 0, 0, [], 5),
        "B": ArmEvents([30.0 + i % 7 for i in range(50)], 0, 0, [], 5),
    }
    [test] = stats.compare(experiment, slow, "latency")
    assert test.test == "mannwhitneyu" and test.significant and test.better == "A"
    happy = {
        "A": ArmEvents([], 0, 0, [0.2, 0.3, 0.1, 0.25] * 5, 5),
        "B": ArmEvents([], 0, 0, [0.8, 0.9, 0.7, 0.85] * 5, 5),
    }
    [test] = stats.compare(experiment, happy, "user_satisfaction")
    assert test.significant and test.better == "B" and stats.favoured(experiment, [test]) == "B"
    assert stats.compare(experiment, {}, "latency")[0].p_value == 1.0  # no data, no claim
    figures = stats.figures(experiment, errors)
    assert (figures[0].requests, figures[0].errors, figures[1].requests) == (200, 10, 200)
