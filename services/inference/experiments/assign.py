"""Sticky assignment: a caller's arm is a function of the experiment and the caller alone.

``sha256(experiment_id, caller)`` read as a number in [0, 1) falls in one arm's slice of the
cumulative weights. No state is kept, so every replica, and every restart, assigns a caller the
same arm; over many callers the shares follow the weights. A request without a caller (no
authenticated principal, no ``user``) is assigned by its request id: it counts, but it is not sticky.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from services.inference.experiments.records import Arm


def unit_interval(experiment_id: str, caller: str) -> float:
    """A uniform number in [0, 1) determined by the pair."""
    digest = hashlib.sha256(f"{experiment_id}\0{caller}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose(experiment_id: str, caller: str, arms: Sequence[Arm]) -> Arm:
    """The caller's arm."""
    point = unit_interval(experiment_id, caller) * sum(a.weight for a in arms)
    for arm in arms:
        point -= arm.weight
        if point < 0:
            return arm
    return arms[-1]
