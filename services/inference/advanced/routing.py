"""Smart routing: which language model a request of a capability should run on. No transport imports.

The candidates come with measured facts (loaded or not, median latency of the requests they served
in this service, size of their weights); :func:`choose` ranks them for a priority and says why in
words. Every model here is self-hosted, so "cost" means the smallest model: the least memory and
compute per token. Which worker runs the model is not chosen here: the worker pool already sends
each request to the least-loaded worker holding it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from services.common.errors import ModelNotFound


class Priority(StrEnum):
    """What a routing decision optimises."""

    BALANCED = "balanced"
    PERFORMANCE = "performance"
    COST = "cost"


@dataclass(frozen=True)
class Candidate:
    """A model that can take a prompt, and what is known about it."""

    name: str
    source: str
    size_bytes: int
    loaded: bool
    latency_p50_ms: float | None
    requests: int
    capabilities: tuple[str, ...] = field(default=("text-generation",))


def _latency(c: Candidate) -> tuple[int, float]:
    """Measured models first, fastest first."""
    return (0, c.latency_p50_ms) if c.latency_p50_ms is not None else (1, 0.0)


def _size(c: Candidate) -> tuple[int, int]:
    """Known sizes first, smallest first."""
    return (0, c.size_bytes) if c.size_bytes > 0 else (1, 0)


def rank(candidates: list[Candidate], priority: Priority) -> list[Candidate]:
    """Candidates best first for the priority (ties by name, so the choice is stable)."""
    if priority is Priority.PERFORMANCE:
        return sorted(candidates, key=lambda c: (_latency(c), not c.loaded, _size(c), c.name))
    if priority is Priority.COST:
        return sorted(candidates, key=lambda c: (_size(c), not c.loaded, c.name))
    return sorted(candidates, key=lambda c: (not c.loaded, _latency(c), _size(c), c.name))


def reason(chosen: Candidate, priority: Priority, count: int) -> str:
    """Why ``chosen`` won, in words, from the facts the ranking used."""
    facts = []
    if chosen.latency_p50_ms is not None:
        facts.append(f"median latency {chosen.latency_p50_ms:.1f} ms over {chosen.requests} requests")
    else:
        facts.append("no latency measured yet")
    facts.append(f"{chosen.size_bytes} bytes of weights" if chosen.size_bytes else "size unknown")
    facts.append("loaded on a worker" if chosen.loaded else "not loaded (first request loads it)")
    rule = {
        Priority.PERFORMANCE: "lowest measured median latency",
        Priority.COST: "smallest model (self-hosted: size stands for cost)",
        Priority.BALANCED: "already loaded, then lowest measured latency, then smallest",
    }[priority]
    alone = " (the only candidate)" if count == 1 else f" among {count} candidates"
    return f"{priority.value}: {rule}{alone}; {chosen.name}: " + ", ".join(facts)


def choose(candidates: list[Candidate], capability: str, priority: Priority) -> list[Candidate]:
    """The candidates having ``capability``, best first; MODEL_NOT_FOUND when none has it."""
    wanted = capability.strip() or "text-generation"
    able = [c for c in candidates if wanted in c.capabilities]
    if not able:
        known = sorted({cap for c in candidates for cap in c.capabilities})
        raise ModelNotFound(
            f"no model that takes a prompt has capability {wanted!r}",
            details={"model_type": wanted, "available_model_types": list(known)},
            suggestion="use one of the available model types, or register a GGUF language model",
        )
    return rank(able, priority)
