"""What an experiment is, validated once (InvalidInput naming the field), in canonical terms."""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field

from services.common.errors import InvalidInput

METRICS = ("error_rate", "latency", "user_satisfaction")
#: 003 names the metric "user_satisfaction"; these spellings mean the same figures.
METRIC_ALIASES = {"satisfaction": "user_satisfaction", "errors": "error_rate", "latency_ms": "latency"}
MAX_ARMS = 10


@dataclass(frozen=True)
class Arm:
    """One variant: a model (name or name:version) and its share of the traffic."""

    name: str
    model: str
    weight: float


@dataclass
class Experiment:
    """An experiment and its lifecycle."""

    experiment_id: str
    name: str
    route_model: str
    arms: tuple[Arm, ...]
    success_metric: str = "error_rate"
    status: str = "running"  # running, stopped, promoted
    created_at: float = field(default_factory=time.time)
    ends_at: float | None = None
    winner: str = ""

    def state(self, now: float | None = None) -> str:
        """The status, with a running experiment past its end reported as ``expired``."""
        if self.status == "running" and self.ends_at is not None and (now or time.time()) >= self.ends_at:
            return "expired"
        return self.status

    def arm(self, name: str) -> Arm:
        """An arm by its name, else by its model; InvalidInput naming the known ones."""
        for arm in self.arms:
            if arm.name == name:
                return arm
        for arm in self.arms:
            if arm.model == name:
                return arm
        raise InvalidInput(
            f"experiment {self.experiment_id!r} has no arm {name!r}",
            details={"field": "arm", "arms": ",".join(a.name for a in self.arms)},
        )


def new_experiment(
    name: str,
    route_model: str,
    arms: list[tuple[str, str, float]],
    success_metric: str,
    duration_seconds: float,
) -> Experiment:
    """A validated experiment: two or more arms with distinct names and positive finite weights."""
    if not name.strip():
        raise InvalidInput("test_name is required", details={"field": "test_name"})
    if not 2 <= len(arms) <= MAX_ARMS:
        raise InvalidInput(
            f"an experiment needs 2 to {MAX_ARMS} models; got {len(arms)}",
            details={"field": "models", "provided": len(arms)},
            suggestion='list the variants, e.g. "models": ["model-a", "model-b"]',
        )
    built: list[Arm] = []
    for index, (arm_name, model, weight) in enumerate(arms):
        if not model.strip():
            raise InvalidInput(f"models[{index}] is empty", details={"field": f"models[{index}]"})
        if not (math.isfinite(weight) and weight > 0):
            raise InvalidInput(
                f"the traffic share of models[{index}] must be a positive number",
                details={"field": "config.traffic_split", "provided": str(weight)},
            )
        built.append(Arm(arm_name or chr(ord("A") + index), model.strip(), float(weight)))
    if len({a.name for a in built}) != len(built):
        raise InvalidInput("arm names must be distinct", details={"field": "arms"})
    metric = METRIC_ALIASES.get(success_metric, success_metric or "error_rate")
    if metric not in METRICS:
        raise InvalidInput(
            f"unsupported success_metric {success_metric!r}",
            details={"field": "config.success_metric", "supported": ",".join(METRICS)},
        )
    if not (math.isfinite(duration_seconds) and duration_seconds >= 0):
        raise InvalidInput(
            "duration must be 0 (until stopped) or more", details={"field": "config.duration_days"}
        )
    now = time.time()
    return Experiment(
        experiment_id=f"exp_{uuid.uuid4().hex[:16]}",
        name=name.strip(),
        route_model=(route_model or built[0].model).strip(),
        arms=tuple(built),
        success_metric=metric,
        created_at=now,
        ends_at=now + duration_seconds if duration_seconds else None,
    )
