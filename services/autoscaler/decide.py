"""The scaling rule: from a policy, a metric reading and the target's memory to the replicas wanted.

Pure functions and plain data; no transport, no clock of its own (``now`` is passed in), so every
branch is tested without a mesh. The rule follows the Kubernetes HPA's: desired replicas are the
metric over its per-replica target, within a 10 % tolerance, bounded by the policy, moved at most one
step per decision, and held during the cooldowns. Scale to zero happens only when the policy allows it
(``min_replicas`` 0) after ``idle_seconds_to_zero`` without traffic; any demand at zero replicas is a
cold start that scales to at least one at once, without waiting for a cooldown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.autoscaler.policies import Policy

#: Metrics that are totals over the target (divided by the per-replica target value).
TOTAL_METRICS = frozenset({"queue_depth", "in_flight", "request_rate", "requests_per_minute"})
#: Relative deviation from the target inside which the replicas are left alone.
TOLERANCE = 0.1


@dataclass(frozen=True)
class Reading:
    """What the autoscaler read about one target at one evaluation."""

    replicas: int
    queue_depth: float = 0.0
    in_flight: float = 0.0
    latency_p99_ms: float = 0.0
    request_rate: float = 0.0
    utilization: float = 0.0
    #: Requests the target finished since the previous evaluation.
    served: float = 0.0

    def value(self, metric: str) -> float:
        """The value of a policy metric (``requests_per_minute`` is derived from the rate)."""
        if metric == "requests_per_minute":
            return self.request_rate * 60.0
        return float(getattr(self, metric))

    @property
    def active(self) -> bool:
        """Whether the target has any demand: requests under way or waiting, or served since the last
        look. (Not the request rate: a one-minute average would hold an idle target "active" for a
        minute, so no ``idle_seconds_to_zero`` below that could be honoured.)"""
        return self.in_flight > 0 or self.queue_depth > 0 or self.served > 0

    def inputs(self) -> dict[str, float]:
        """Every value read, for the decision record."""
        return {
            "replicas": float(self.replicas),
            "queue_depth": self.queue_depth,
            "in_flight": self.in_flight,
            "latency_p99_ms": self.latency_p99_ms,
            "request_rate": self.request_rate,
            "utilization": self.utilization,
            "served": self.served,
        }


@dataclass
class Memory:
    """What the autoscaler remembers about one target between evaluations (monotonic seconds)."""

    last_up: float = -math.inf
    last_down: float = -math.inf
    idle_since: float | None = None
    #: Since when the metric has wanted fewer replicas without a break (scale-down stabilisation).
    low_since: float | None = None
    #: The target's request total at the previous evaluation (None before the first).
    requests_seen: float | None = None
    #: The target's request-seconds in flight, and when they were read, at the previous evaluation.
    in_flight_seconds_seen: tuple[float, float] | None = None


@dataclass(frozen=True)
class Verdict:
    """The outcome of one evaluation."""

    replicas: int
    to_replicas: int
    desired: int
    metric_value: float
    reason: str

    @property
    def changes(self) -> bool:
        """Whether the replicas should change."""
        return self.to_replicas != self.replicas


def raw_desired(policy: Policy, reading: Reading) -> int:
    """Replicas the metric alone asks for (before bounds, steps and cooldowns)."""
    value = reading.value(policy.target_metric)
    if policy.target_metric in TOTAL_METRICS:
        want = value / policy.target_value
        current = max(reading.replicas, 1)
        # Inside the tolerance band around the current replicas, stay.
        if reading.replicas and abs(want / current - 1.0) <= TOLERANCE:
            return reading.replicas
        return math.ceil(want - 1e-9)
    # Averaged metrics (latency, utilisation): scale the current replicas by the ratio.
    ratio = value / policy.target_value
    if abs(ratio - 1.0) <= TOLERANCE:
        return reading.replicas
    return math.ceil(max(reading.replicas, 1) * ratio - 1e-9)


def mean_in_flight(memory: Memory, in_flight_seconds: float, now: float, instant: float) -> float:
    """Mean requests in flight since the previous evaluation, from the target's running total of
    request-seconds (Little's law; what Knative's autoscaler averages): a single look at the count
    under steady load often lands between requests. The count itself at the first look, or when the
    total went back (the inference service restarted, a model was dropped)."""
    previous, memory.in_flight_seconds_seen = memory.in_flight_seconds_seen, (in_flight_seconds, now)
    if previous is None or now <= previous[1] or in_flight_seconds < previous[0]:
        return instant
    return (in_flight_seconds - previous[0]) / (now - previous[1])


def evaluate(policy: Policy, reading: Reading, memory: Memory, now: float) -> Verdict:
    """Decides the replicas of one target and updates its idle clock (not its scale times)."""
    metric = policy.target_metric
    value = reading.value(metric)
    current = reading.replicas
    described = f"{metric}={value:.3g} (target {policy.target_value:g} per replica, {current} replicas)"
    if reading.active:
        memory.idle_since = None
    elif memory.idle_since is None:
        memory.idle_since = now
    idle_for = now - memory.idle_since if memory.idle_since is not None else 0.0

    def verdict(to: int, desired: int, reason: str) -> Verdict:
        return Verdict(current, to, desired, value, reason)

    raw = raw_desired(policy, reading)
    if policy.min_replicas == 0:
        if current == 0:
            if not reading.active:
                return verdict(0, 0, "scaled to zero and idle")
            want = policy.clamp(max(1, raw))
            return verdict(want, want, f"cold start: demand at zero replicas, {described}")
        if not reading.active and idle_for >= policy.idle_seconds_to_zero:
            return verdict(
                0, 0, f"idle for {idle_for:.0f}s >= idle_seconds_to_zero {policy.idle_seconds_to_zero:g}s"
            )
    floor = max(policy.min_replicas, 1)
    desired = max(floor, min(policy.max_replicas, raw))
    if current > policy.max_replicas or current < floor:
        bounded = policy.clamp(max(current, floor))
        return verdict(
            bounded, bounded, f"{current} replicas outside policy bounds [{floor}, {policy.max_replicas}]"
        )
    if desired >= current:
        memory.low_since = None
    if desired > current:
        wait = policy.scale_up_cooldown_seconds - (now - memory.last_up)
        if wait > 0:
            return verdict(
                current, desired, f"{described} wants {desired}; scale-up cooldown, {wait:.1f}s left"
            )
        to = min(desired, current + policy.scale_up_step)
        return verdict(to, desired, f"{described} wants {desired}: scale up by {to - current}")
    if desired < current:
        # Scale down only once fewer replicas have been wanted for the whole cooldown and the last
        # change is at least that old (the HPA's stabilisation window): a lull does not shed a worker.
        if memory.low_since is None:
            memory.low_since = now
        wait = policy.scale_down_cooldown_seconds - min(
            now - memory.low_since, now - max(memory.last_up, memory.last_down)
        )
        if wait > 0:
            return verdict(
                current, desired, f"{described} wants {desired}; scale-down cooldown, {wait:.1f}s left"
            )
        to = max(desired, current - policy.scale_down_step)
        return verdict(to, desired, f"{described} wants {desired}: scale down by {current - to}")
    return verdict(current, desired, f"{described}: holding")


def record_change(memory: Memory, before: int, after: int, now: float) -> None:
    """Starts the cooldown that a change of replicas begins."""
    if after > before:
        memory.last_up = now
    elif after < before:
        memory.last_down = now
