"""Scaling policies: validation and storage (a table of the autoscaler's database: SQLite under its
data directory, or PostgreSQL, so a restarted or rescheduled autoscaler keeps them). No transport
imports."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from services.common.errors import InvalidInput, NotFound
from services.common.sqldb import Database, SqlDatabase

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


SCHEMA = """CREATE TABLE IF NOT EXISTS scaling_policies (
    target TEXT PRIMARY KEY,
    policy TEXT NOT NULL
)"""


def _in_memory() -> SqlDatabase:
    return Database(Path(":memory:"))


@dataclass
class PolicyStore:
    """Policies by target, in the autoscaler's database (a private in-memory one by default)."""

    db: SqlDatabase = field(default_factory=_in_memory)

    def __post_init__(self) -> None:
        self.db.script(SCHEMA)

    def put(self, policy: Policy) -> Policy:
        """Stores a validated policy, replacing any previous one."""
        checked = policy.validated()
        self.db.execute(
            "INSERT INTO scaling_policies (target, policy) VALUES (?, ?)"
            " ON CONFLICT (target) DO UPDATE SET policy = excluded.policy",
            (checked.target, json.dumps(asdict(checked))),
        )
        return checked

    def find(self, target: str) -> Policy | None:
        """The policy of a target, if it has one."""
        row = self.db.one("SELECT policy FROM scaling_policies WHERE target = ?", (target,))
        return _policy(row[0]) if row is not None else None

    def get(self, target: str) -> Policy:
        """The policy of a target."""
        found = self.find(target)
        if found is None:
            raise NotFound(f"no scaling policy for {target!r}", details={"target": target})
        return found

    def delete(self, target: str) -> None:
        """Removes the policy of a target."""
        if not self.db.execute("DELETE FROM scaling_policies WHERE target = ?", (target,)):
            raise NotFound(f"no scaling policy for {target!r}", details={"target": target})

    def all(self) -> list[Policy]:
        """Every policy, by target."""
        rows = self.db.all("SELECT policy FROM scaling_policies ORDER BY target")
        return [_policy(row[0]) for row in rows]


def _policy(stored: str) -> Policy:
    """A stored policy (fields a newer version added take their defaults)."""
    data = json.loads(stored)
    return Policy(**{k: v for k, v in data.items() if k in Policy.__dataclass_fields__})
