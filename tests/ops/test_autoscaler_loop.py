"""The control loop's decisions against a fake statistics source and a recording driver (no mesh)."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace

import pytest

from meshserve.v1 import inference_pb2 as ipb
from services.autoscaler.controller import Autoscaler
from services.autoscaler.decide import Memory, Reading, evaluate
from services.autoscaler.policies import Policy, PolicyStore
from services.autoscaler.sources import Sampler
from services.autoscaler.timeseries import MetricsSeries, ModelSample, Sample
from services.common.errors import BackendUnavailable, InvalidInput


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeSource:
    """Statistics set by the test; ``fail`` makes the inference service unreachable. Like the
    inference service, it keeps the running total of request-seconds in flight (on the test's clock).
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.queue_depth = 0
        self._in_flight = 0
        self._area, self._area_at = 0.0, self.clock.now
        #: Request-seconds added on top, as if requests came and went between two looks.
        self.between_looks = 0.0
        self.rate = 0.0
        self.requests = 0
        self.fail = False

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @in_flight.setter
    def in_flight(self, value: int) -> None:
        self._area += self._in_flight * (self.clock.now - self._area_at)
        self._area_at, self._in_flight = self.clock.now, value

    def in_flight_seconds(self) -> float:
        return self._area + self._in_flight * (self.clock.now - self._area_at) + self.between_looks

    async def stats(self) -> ipb.GetStatsResponse:
        if self.fail:
            raise BackendUnavailable("inference down")
        model = ipb.ModelStats(
            model_name="m",
            in_flight=self.in_flight,
            in_flight_seconds=self.in_flight_seconds(),
            queue_depth=self.queue_depth,
            request_rate=self.rate,
            requests=self.requests,
        )
        model.latency.p99_ms = 12.0
        return ipb.GetStatsResponse(
            models=[model], workers=[ipb.WorkerStats(worker_id="w-1", utilization=0.5)]
        )

    async def devices(self) -> ipb.GetDeviceInfoResponse:
        return ipb.GetDeviceInfoResponse(summary="no GPU, running on CPU")


class FakeDriver:
    """Replicas in memory; records every apply."""

    name = "fake"

    def __init__(self, replicas: int = 1) -> None:
        self.replicas = replicas
        self.applied: list[int] = []
        self.broken = False

    async def current(self, target: str) -> int:
        return self.replicas

    async def apply(self, target: str, replicas: int, reason: str) -> None:
        if self.broken:
            raise BackendUnavailable("driver down")
        self.applied.append(replicas)
        self.replicas = replicas


def make(policy: Policy, replicas: int = 1) -> tuple[Autoscaler, FakeSource, FakeDriver, Clock]:
    store = PolicyStore()
    store.put(policy)
    clock = Clock()
    source, driver = FakeSource(clock), FakeDriver(replicas)
    return Autoscaler(store, source, driver, period_seconds=1.0, clock=clock), source, driver, clock


POLICY = Policy(
    target="m",
    target_metric="queue_depth",
    target_value=2,
    min_replicas=1,
    max_replicas=3,
    scale_up_cooldown_seconds=10,
    scale_down_cooldown_seconds=30,
)


async def test_load_ramp_scales_up_one_step_per_cooldown_and_down_after_it() -> None:
    scaler, source, driver, clock = make(POLICY)
    source.queue_depth = 9  # wants ceil(9/2) = 5, bounded by max 3
    [first] = await scaler.evaluate_once()
    assert (first.from_replicas, first.to_replicas, first.trigger) == (1, 2, "policy")
    assert "queue_depth=9" in first.reason and "wants 3" in first.reason
    assert first.inputs["queue_depth"] == 9 and first.inputs["replicas"] == 1
    clock.now += 5  # inside the scale-up cooldown: held, with the reason kept
    assert await scaler.evaluate_once() == []
    assert "cooldown" in scaler.status["m"].reason
    clock.now += 5
    [second] = await scaler.evaluate_once()
    assert second.to_replicas == 3
    clock.now += 100
    assert await scaler.evaluate_once() == []  # at max: no further change
    source.queue_depth = 0  # load stops: fewer replicas must be wanted for the whole cooldown
    clock.now += 1
    assert await scaler.evaluate_once() == []
    assert "scale-down cooldown, 30.0s left" in scaler.status["m"].reason
    source.queue_depth = 5  # a burst inside the window restarts it
    clock.now += 20
    assert await scaler.evaluate_once() == []
    source.queue_depth = 0
    clock.now += 1
    assert await scaler.evaluate_once() == []
    clock.now += 29
    assert await scaler.evaluate_once() == []  # 29 s of low demand: still held
    clock.now += 1
    [down] = await scaler.evaluate_once()
    assert (down.from_replicas, down.to_replicas) == (3, 2) and "scale down by 1" in down.reason
    clock.now += 10  # the next step waits a cooldown after the change
    assert await scaler.evaluate_once() == []
    clock.now += 25
    [down2] = await scaler.evaluate_once()
    assert down2.to_replicas == 1
    assert driver.applied == [2, 3, 2, 1]
    assert [d.to_replicas for d in scaler.decisions] == [1, 2, 3, 2]  # newest first


def test_tolerance_band_holds_and_bounds_are_enforced() -> None:
    memory = Memory()
    hold = evaluate(POLICY, Reading(replicas=2, queue_depth=4.2), memory, 0.0)
    assert not hold.changes and "holding" in hold.reason
    over = evaluate(POLICY, Reading(replicas=5), memory, 0.0)
    assert over.to_replicas == 3 and "outside policy bounds" in over.reason


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("target_value", math.inf),  # 003's JSON reads Infinity: stored, it showed as null
        ("target_value", math.nan),
        ("target_value", 0.0),
        ("scale_up_cooldown_seconds", math.inf),
        ("scale_down_cooldown_seconds", -1.0),
        ("idle_seconds_to_zero", math.nan),
    ],
)
def test_a_policy_number_that_is_not_finite_and_in_range_is_refused(field: str, value: float) -> None:
    with pytest.raises(InvalidInput) as refused:
        PolicyStore().put(replace(Policy(target="*"), **{field: value}))
    assert refused.value.details["field"] == field


def test_averaged_metric_scales_by_ratio() -> None:
    policy = Policy(
        target="*", target_metric="latency_p99_ms", target_value=100, max_replicas=8, scale_up_step=4
    )
    verdict = evaluate(policy, Reading(replicas=2, latency_p99_ms=300, in_flight=1), Memory(), 0.0)
    assert verdict.desired == 6 and verdict.to_replicas == 6


async def test_scale_to_zero_after_idle_and_cold_start_on_demand() -> None:
    policy = Policy(
        target="m", target_metric="in_flight", target_value=4, min_replicas=0, idle_seconds_to_zero=60
    )
    scaler, source, _driver, clock = make(policy)
    assert await scaler.evaluate_once() == []  # idle clock starts
    clock.now += 61
    [zero] = await scaler.evaluate_once()
    assert zero.to_replicas == 0 and "idle for 61s" in zero.reason
    clock.now += 1
    assert await scaler.evaluate_once() == []  # stays at zero while idle
    source.in_flight = 1  # a request arrives (the inference service queues it)
    [cold] = await scaler.evaluate_once()
    assert cold.to_replicas == 1 and cold.reason.startswith("cold start")


async def test_in_flight_is_the_mean_concurrency_between_looks_not_a_snapshot() -> None:
    # in_flight, 1 per replica, up to 4 replicas (the defaults' metric and maximum).
    policy = Policy(target="m", target_value=1, scale_up_cooldown_seconds=0, scale_down_cooldown_seconds=5)
    scaler, source, driver, clock = make(policy, replicas=2)
    assert (
        await scaler.evaluate_once() == []
    )  # the first look has only the count (0): held by the scale-down cooldown
    # Steady load of short requests: every look lands between two of them (count 0), yet 3
    # request-seconds were in flight per second.
    for _ in range(10):
        clock.now += 1
        source.between_looks += 3.0
        decisions = await scaler.evaluate_once()
        assert not any(d.to_replicas < d.from_replicas for d in decisions), "a steady load is not idle"
    assert driver.replicas == 3 and scaler.status["m"].inputs["in_flight"] == pytest.approx(3.0)
    # One long request held for 2 s out of every look's 4 s: mean 0.5, so one replica is enough.
    source.in_flight = 1
    clock.now += 2
    source.in_flight = 0
    clock.now += 2
    await scaler.evaluate_once()
    assert scaler.status["m"].inputs["in_flight"] == pytest.approx(0.5)


async def test_requests_served_between_looks_reset_the_idle_clock_but_a_stale_rate_does_not() -> None:
    policy = Policy(
        target="m", target_metric="in_flight", target_value=4, min_replicas=0, idle_seconds_to_zero=5
    )
    scaler, source, _driver, clock = make(policy)
    source.rate = 0.5  # a one-minute average still above zero long after the last request
    assert await scaler.evaluate_once() == []  # idle clock starts
    clock.now += 4
    source.requests = 3  # short requests finished between two looks, never seen in flight
    assert await scaler.evaluate_once() == []
    assert scaler.status["m"].inputs["served"] == 3
    clock.now += 4
    assert await scaler.evaluate_once() == []  # nothing served since: the idle clock starts again here
    clock.now += 4
    assert await scaler.evaluate_once() == []
    clock.now += 1
    [zero] = await scaler.evaluate_once()
    assert zero.to_replicas == 0 and "idle for 5s" in zero.reason


async def test_manual_scale_is_clamped_and_holds_the_loop_off() -> None:
    scaler, source, _driver, clock = make(POLICY)
    decision = await scaler.scale("m", 10, "operator")
    assert decision.to_replicas == 3 and decision.trigger == "manual"
    assert "clamped to [1, 3]" in decision.reason
    source.queue_depth = 0  # the loop would scale down, but the manual change starts the cooldown
    clock.now += 5
    assert await scaler.evaluate_once() == []
    with pytest.raises(InvalidInput):
        await scaler.scale("m", -1, "")


async def test_failures_are_recorded_not_raised() -> None:
    scaler, source, driver, _clock = make(POLICY)
    source.fail = True
    assert await scaler.evaluate_once() == []
    assert "statistics unavailable" in scaler.last_error
    source.fail, source.queue_depth, driver.broken = False, 9, True
    [decision] = await scaler.evaluate_once()
    assert not decision.applied and "driver failed" in decision.reason


async def test_a_manual_scale_the_driver_refuses_is_recorded_and_raised() -> None:
    scaler, _source, driver, _clock = make(POLICY)
    driver.broken = True
    with pytest.raises(BackendUnavailable, match="driver down"):
        await scaler.scale("m", 2, "operator")
    [decision] = scaler.decisions
    assert not decision.applied and "driver failed: driver down" in decision.reason
    assert decision.trigger == "manual" and driver.applied == []


async def test_watchers_receive_decisions_for_their_target() -> None:
    scaler, source, _driver, _clock = make(POLICY)
    received: list[int] = []

    async def watch() -> None:
        async for decision in scaler.watch("m"):
            received.append(decision.to_replicas)
            return

    task = asyncio.create_task(watch())
    await asyncio.sleep(0)  # let the watcher subscribe
    source.queue_depth = 9
    await scaler.evaluate_once()
    await asyncio.wait_for(task, 2)
    assert received == [2]


async def test_a_watch_is_subscribed_from_entry_and_misses_no_decision_made_after() -> None:
    scaler, source, _driver, _clock = make(POLICY)
    with scaler.watching("m") as decisions:
        source.queue_depth = 9
        await scaler.evaluate_once()  # before anything reads the watch
        decision = await asyncio.wait_for(anext(decisions), 2)
    assert decision.to_replicas == 2


async def test_metrics_series_samples_host_and_inference() -> None:
    scaler, source, _driver, _clock = make(POLICY)
    source.rate = 3.0
    await scaler.sample_once()
    source.fail = True
    await scaler.sample_once()
    first, second = scaler.series.samples
    assert first.request_rate == 3.0 and first.workers == 1 and 0 <= first.cpu_usage <= 100
    assert second.request_rate is None and not second.has_inference_stats
    [bucket] = scaler.series.query(3600, 1e12)
    assert bucket.samples == 2 and bucket.request_rate == 3.0


async def test_window_smooths_jumpy_counts() -> None:
    store = PolicyStore()
    store.put(POLICY)
    clock = Clock()
    source, driver = FakeSource(clock), FakeDriver(1)
    scaler = Autoscaler(store, source, driver, period_seconds=1.0, clock=clock, window_seconds=3.0)
    source.queue_depth = 9  # one spike among idle readings does not scale up ...
    assert [d.to_replicas for d in await scaler.evaluate_once()] == [
        2
    ]  # (first reading: the mean is the spike)
    scaler2 = Autoscaler(store, source, FakeDriver(2), period_seconds=1.0, clock=clock, window_seconds=3.0)
    for depth in (0, 0, 9):
        source.queue_depth = depth
        clock.now += 1
        assert await scaler2.evaluate_once() == []
    assert scaler2.status["m"].inputs["queue_depth"] == 3.0


def model_stats(name: str, requests: int, failures: int = 0, p99: float = 0.0) -> ipb.ModelStats:
    model = ipb.ModelStats(model_name=name, requests=requests, failures=failures, in_flight=1, replicas=2)
    model.latency.p50_ms, model.latency.p95_ms, model.latency.p99_ms = p99 / 4, p99 / 2, p99
    return model


def test_sample_rates_are_counter_changes_per_model_and_add_up_to_the_requests() -> None:
    clock = Clock()
    sampler = Sampler(clock=clock)
    first = sampler.sample(ipb.GetStatsResponse(models=[model_stats("a", 100)]), None)
    assert first.completed_per_second == 0.0  # nothing to compare with yet
    clock.now += 2.0
    second = sampler.sample(
        ipb.GetStatsResponse(models=[model_stats("a", 130, 4, p99=40.0), model_stats("b", 6, p99=90.0)]), None
    )
    a, b = second.models
    assert (a.model_name, a.completed_per_second, a.failed_per_second) == ("a", 15.0, 2.0)
    assert (b.model_name, b.completed_per_second) == ("b", 3.0)  # new since the last look: all of it
    assert second.completed_per_second == 18.0 and second.failed_per_second == 2.0
    assert (second.latency_p50_ms, second.latency_p95_ms, second.latency_p99_ms) == (22.5, 45.0, 90.0)
    assert a.in_flight == 1 and a.replicas == 2
    clock.now += 1.0  # the inference service restarted: its counters began again
    third = sampler.sample(ipb.GetStatsResponse(models=[model_stats("a", 5)]), None)
    assert third.completed_per_second == 5.0


def test_samples_keep_their_model_breakdown_only_for_the_recent_window() -> None:
    series = MetricsSeries(period_seconds=1.0, keep_seconds=100.0, models_keep_seconds=10.0)
    for at in range(30):
        series.add(
            Sample(
                at=float(at),
                cpu_usage=0,
                memory_usage=0,
                disk_usage=0,
                network_rx=0,
                network_tx=0,
                request_rate=1.0,
                models=(ModelSample("m", completed_per_second=at),),
            )
        )
    kept = [s.at for s in series.samples if s.models]
    assert kept == [float(at) for at in range(19, 30)]
    [bucket] = series.query(timeframe=5.0, granularity=100.0, now=29.0)
    assert [m.completed_per_second for m in bucket.models] == [26.5]  # the mean of 24..29
