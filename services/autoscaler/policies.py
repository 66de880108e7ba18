"""Scaling policies: validation and storage. No transport imports."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from services.common.errors import InvalidInput, NotFound

#: Metrics a policy may track; ``requests_per_minute`` is 003's name (request_rate x 60).
METRICS = (
    "queue_depth",
    "in_flight",
    "latency_p99_ms",
    "request_rate",
    "requests_per_minute",
    "utilization",
)


@dataclass(frozen=True)
class Policy:
    """How one target scales."""

    target: str
    target_metric: str = "in_flight"
    target_value: float = 4.0
    min_replicas: int = 1
    max_replicas: int = 4
    scale_up_step: int = 1
    scale_down_step: int = 1
    scale_up_cooldown_seconds: float = 15.0
    scale_down_cooldown_seconds: float = 60.0
    idle_seconds_to_zero: float = 300.0

    def validated(self) -> Policy:
        """This policy with defaults filled in, or :class:`InvalidInput` naming the bad field."""
        if not self.target:
            raise InvalidInput("policy target is required", details={"field": "target"})
        if self.target_metric not in METRICS:
            raise InvalidInput(
                f"unknown target_metric {self.target_metric!r}",
                details={"field": "target_metric", "allowed": ",".join(METRICS)},
            )
        if not 0 < self.target_value < math.inf:  # NaN fails this too
            raise InvalidInput("target_value must be a positive number", details={"field": "target_value"})
        for name in ("scale_up_cooldown_seconds", "scale_down_cooldown_seconds", "idle_seconds_to_zero"):
            if not 0 <= getattr(self, name) < math.inf:
                raise InvalidInput(f"{name} must be a number of seconds, 0 or more", details={"field": name})
        if self.min_replicas < 0 or self.max_replicas < max(1, self.min_replicas):
            raise InvalidInput(
                "need 0 <= min_replicas <= max_replicas and max_replicas >= 1",
                details={"min_replicas": self.min_replicas, "max_replicas": self.max_replicas},
            )
        return replace(
            self,
            scale_up_step=max(1, self.scale_up_step),
            scale_down_step=max(1, self.scale_down_step),
        )

    def clamp(self, replicas: int) -> int:
        """Replicas kept within the policy bounds."""
        return max(self.min_replicas, min(self.max_replicas, replicas))


@dataclass
class PolicyStore:
    """Policies by target, in memory."""

    policies: dict[str, Policy] = field(default_factory=dict)

    def put(self, policy: Policy) -> Policy:
        """Stores a validated policy, replacing any previous one."""
        checked = policy.validated()
        self.policies[checked.target] = checked
        return checked

    def get(self, target: str) -> Policy:
        """The policy of a target."""
        try:
            return self.policies[target]
        except KeyError:
            raise NotFound(f"no scaling policy for {target!r}", details={"target": target}) from None

    def delete(self, target: str) -> None:
        """Removes the policy of a target."""
        self.get(target)
        del self.policies[target]

    def all(self) -> list[Policy]:
        """Every policy, by target."""
        return [self.policies[k] for k in sorted(self.policies)]
