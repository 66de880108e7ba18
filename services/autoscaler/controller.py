"""The control loop: every period, read the statistics, evaluate each policy, drive the changes.

Every change, automatic or manual, becomes a :class:`Decision` with its inputs and reason; decisions
are kept (newest first) and pushed to watchers. Manual scaling is clamped to the policy bounds and
starts the cooldowns, so the loop does not undo it at once. No transport imports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.autoscaler.decide import Memory, Reading, Verdict, evaluate, mean_in_flight, record_change
from services.autoscaler.drivers import Driver
from services.autoscaler.policies import Policy, PolicyStore
from services.autoscaler.sources import Sampler, StatsSource, target_metrics
from services.autoscaler.timeseries import MetricsSeries
from services.common.errors import InvalidInput, MeshError
from services.common.metrics import (
    AUTOSCALER_DECISIONS,
    AUTOSCALER_DESIRED,
    AUTOSCALER_EVALUATIONS,
    AUTOSCALER_MAX,
    AUTOSCALER_METRIC,
    AUTOSCALER_REPLICAS,
)

log = logging.getLogger("meshserve.autoscaler")


def rfc3339(at: float) -> str:
    """Unix seconds as RFC 3339 UTC with milliseconds."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Decision:
    """A change of replicas with what led to it."""

    time: str
    target: str
    from_replicas: int
    to_replicas: int
    reason: str
    inputs: dict[str, float]
    trigger: str
    driver: str
    applied: bool
    counted: tuple[str, ...] = ()  # the inference endpoints whose statistics were summed


@dataclass
class TargetStatus:
    """What the last evaluation of a target found."""

    replicas: int = 0
    metric_value: float = 0.0
    desired: int = 0
    reason: str = ""
    inputs: dict[str, float] = field(default_factory=dict)
    last_scale_time: str = ""


class Autoscaler:
    """Policies, the loop that applies them, and the decision log."""

    def __init__(
        self,
        store: PolicyStore,
        source: StatsSource,
        driver: Driver,
        *,
        period_seconds: float,
        history_size: int = 200,
        series: MetricsSeries | None = None,
        sampler: Sampler | None = None,
        clock: Callable[[], float] = time.monotonic,
        window_seconds: float = 0.0,
    ) -> None:
        self.store = store
        self.source = source
        self.driver = driver
        self.period = period_seconds
        self.series = series or MetricsSeries(period_seconds)
        self.sampler = sampler or Sampler()
        self.clock = clock
        self.window = window_seconds
        self._readings: dict[str, deque[tuple[float, dict[str, float]]]] = {}
        self.memory: dict[str, Memory] = {}
        self.status: dict[str, TargetStatus] = {}
        self.decisions: deque[Decision] = deque(maxlen=history_size)
        self.decisions_total = 0
        self.evaluations = 0
        self.last_evaluation = ""
        self.last_error = ""
        self.running = False
        self._watchers: set[asyncio.Queue[Decision]] = set()
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    # ---- the loop ------------------------------------------------------------------------------

    async def evaluate_once(self) -> list[Decision]:
        """Reads the statistics once and applies every policy; returns the decisions made."""
        made: list[Decision] = []
        try:
            stats = await self.source.stats()
        except MeshError as error:
            self.last_error = f"statistics unavailable: {error.message}"
            AUTOSCALER_EVALUATIONS.labels("stats_unavailable").inc()
            log.warning("evaluation skipped", extra={"error": error.message})
            return made
        self.last_error = ""
        async with self._lock:
            for policy in self.store.all():
                try:
                    decision = await self._evaluate(policy, stats)
                except MeshError as error:
                    self.last_error = f"{policy.target}: {error.message}"
                    log.warning("driver failed", extra={"target": policy.target, "error": error.message})
                    continue
                if decision is not None:
                    made.append(decision)
        self.evaluations += 1
        self.last_evaluation = rfc3339(time.time())
        AUTOSCALER_EVALUATIONS.labels("ok" if not self.last_error else "error").inc()
        return made

    async def _evaluate(self, policy: Policy, stats: object) -> Decision | None:
        replicas = await self.driver.current(policy.target)
        now = self.clock()
        memory = self.memory.setdefault(policy.target, Memory())
        metrics = target_metrics(stats, policy.target)  # type: ignore[arg-type]
        total = metrics.pop("requests")
        # Requests finished since the last look: traffic too short to be caught in flight still counts.
        seen, memory.requests_seen = memory.requests_seen, total
        metrics["served"] = total - seen if seen is not None and total >= seen else 0.0
        area = metrics.pop("in_flight_seconds")
        metrics["in_flight"] = mean_in_flight(memory, area, now, metrics["in_flight"])
        metrics = self._smoothed(policy.target, metrics, now)
        reading = Reading(replicas=replicas, **metrics)
        verdict = evaluate(policy, reading, memory, now)
        status = self.status.setdefault(policy.target, TargetStatus())
        status.replicas, status.metric_value = verdict.replicas, verdict.metric_value
        status.desired, status.reason, status.inputs = verdict.desired, verdict.reason, reading.inputs()
        AUTOSCALER_REPLICAS.labels(policy.target).set(replicas)
        AUTOSCALER_DESIRED.labels(policy.target).set(verdict.desired)
        AUTOSCALER_MAX.labels(policy.target).set(policy.max_replicas)
        AUTOSCALER_METRIC.labels(policy.target, policy.target_metric).set(verdict.metric_value)
        if not verdict.changes:
            return None
        decision, _ = await self._carry_out(policy.target, verdict, reading.inputs(), "policy", now)
        return decision  # a driver failure is in it (applied false, the reason); the loop goes on

    def _smoothed(self, target: str, metrics: dict[str, float], now: float) -> dict[str, float]:
        """The mean of each metric over the last ``window`` seconds: in-flight and queue depth are
        instantaneous counts, too jumpy alone to decide on."""
        if self.window <= 0:
            return metrics
        window = self._readings.setdefault(target, deque())
        window.append((now, metrics))
        while window and window[0][0] < now - self.window:
            window.popleft()
        return {name: sum(m[name] for _, m in window) / len(window) for name in metrics}

    async def _carry_out(
        self, target: str, verdict: Verdict, inputs: dict[str, float], trigger: str, now: float
    ) -> tuple[Decision, MeshError | None]:
        """Applies a verdict and records it as a decision; returns it with the driver's failure."""
        applied, failure = True, None
        reason = verdict.reason
        decided_at = rfc3339(time.time())  # when decided; the driver may take seconds to carry it out
        try:
            await self.driver.apply(target, verdict.to_replicas, reason)
        except MeshError as error:
            applied, failure = False, error
            reason = f"{reason}; driver failed: {error.message}"
        memory = self.memory.setdefault(target, Memory())
        if applied:
            record_change(memory, verdict.replicas, verdict.to_replicas, now)
        decision = Decision(
            time=decided_at,
            target=target,
            from_replicas=verdict.replicas,
            to_replicas=verdict.to_replicas,
            reason=reason,
            inputs={**inputs, "metric_value": verdict.metric_value, "desired": float(verdict.desired)},
            trigger=trigger,
            driver=self.driver.name,
            applied=applied,
            counted=tuple(getattr(self.source, "last_endpoints", ())),
        )
        self._record(decision)
        status = self.status.setdefault(target, TargetStatus())
        if applied:
            status.replicas = verdict.to_replicas
            status.last_scale_time = decision.time
        return decision, failure

    def _record(self, decision: Decision) -> None:
        self.decisions.appendleft(decision)
        self.decisions_total += 1
        direction = "up" if decision.to_replicas > decision.from_replicas else "down"
        AUTOSCALER_DECISIONS.labels(decision.target, direction, decision.trigger).inc()
        log.info(
            "scaling decision",
            extra={
                "target": decision.target,
                "from": decision.from_replicas,
                "to": decision.to_replicas,
                "reason": decision.reason,
                "trigger": decision.trigger,
                "applied": decision.applied,
            },
        )
        for queue in list(self._watchers):
            queue.put_nowait(decision)

    # ---- manual scaling ------------------------------------------------------------------------

    async def scale(self, target: str, replicas: int, reason: str) -> Decision:
        """Scales a target by hand, clamped to its policy (the defaults when it has none)."""
        if not target:
            raise InvalidInput("target is required", details={"field": "target"})
        if replicas < 0:
            raise InvalidInput("replicas must be >= 0", details={"field": "replicas", "value": replicas})
        policy = self.store.find(target) or Policy(target=target).validated()
        async with self._lock:
            current = await self.driver.current(target)
            wanted = policy.clamp(replicas)
            why = reason or "manual scale"
            if wanted != replicas:
                why += f" (asked {replicas}, clamped to [{policy.min_replicas}, {policy.max_replicas}])"
            verdict = Verdict(current, wanted, wanted, float(replicas), why)
            inputs = {"requested": float(replicas), "replicas": float(current)}
            now = self.clock()
            decision, failure = await self._carry_out(target, verdict, inputs, "manual", now)
            if failure is not None:  # recorded, and whoever asked is told why (an unknown model: 404)
                raise failure
            # A manual change holds the loop off in both directions for the cooldowns.
            memory = self.memory.setdefault(target, Memory())
            memory.last_up = memory.last_down = now
            return decision

    # ---- watching ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def watching(self, target: str = "") -> Iterator[AsyncIterator[Decision]]:
        """Decisions as they are made (only ``target``'s when given), every one from the moment the
        block is entered."""
        queue: asyncio.Queue[Decision] = asyncio.Queue()
        self._watchers.add(queue)
        try:
            yield _decisions(queue, target)
        finally:
            self._watchers.discard(queue)

    async def watch(self, target: str = "") -> AsyncIterator[Decision]:
        """Decisions as they are made, from when iteration starts (see :meth:`watching`)."""
        with self.watching(target) as decisions:
            async for decision in decisions:
                yield decision

    # ---- metrics time series -------------------------------------------------------------------

    async def sample_once(self) -> None:
        """Adds one sample of the host and the inference service to the time series."""
        stats = devices = None
        with contextlib.suppress(MeshError):
            stats = await self.source.stats()
        with contextlib.suppress(MeshError):
            devices = await self.source.devices()
        self.series.add(self.sampler.sample(stats, devices))

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self, *, control: bool = True, metrics_period: float | None = None) -> None:
        """Starts the control loop (when ``control``) and the metrics sampler."""
        if control:
            self._tasks.append(asyncio.create_task(self._every(self.period, self.evaluate_once)))
            self.running = True
        if metrics_period:
            self._tasks.append(asyncio.create_task(self._every(metrics_period, self.sample_once)))

    async def stop(self) -> None:
        """Stops every loop."""
        self.running = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _every(self, period: float, step: Callable[[], object]) -> None:
        # Fixed-rate schedule: a slow step does not shift the next ones.
        next_at = time.monotonic()
        while True:
            try:
                await step()  # type: ignore[misc]
            except Exception:  # keep the loop alive; the error is in the log
                log.exception("autoscaler step failed")
            next_at = max(next_at + period, time.monotonic())
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def _decisions(queue: asyncio.Queue[Decision], target: str) -> AsyncIterator[Decision]:
    while True:
        decision = await queue.get()
        if not target or decision.target == target:
            yield decision
