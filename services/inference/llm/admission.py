"""Admission of generations: a model holds at most its batch slots plus a bounded queue of
sequences; one more is refused at once with RESOURCE_EXHAUSTED and ``Retry-After``, instead of
waiting behind a queue that only grows under overload."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from services.common.errors import AtCapacity

REFUSED = Counter(
    "meshserve_llm_refused_total", "Generations refused at admission (batch slots and queue full)", ["model"]
)
LIMIT = Gauge(
    "meshserve_llm_max_sequences_per_model", "Sequences a language model takes at once, queue included"
)


class SequenceAdmission:
    """Counts the sequences under way per model against ``slots + queue``."""

    def __init__(self, slots: int, queue: int) -> None:
        self.slots = slots
        self.queue = queue
        self._under_way: dict[str, int] = {}
        LIMIT.set(slots + queue)

    def admit(self, model: str, n: int) -> None:
        """Takes ``n`` sequences for a model, or refuses them all."""
        under_way = self._under_way.get(model, 0)
        if under_way + n > self.slots + self.queue:
            REFUSED.labels(model).inc()
            raise AtCapacity(
                f"model {model!r}",
                under_way,
                self.slots + self.queue,
                "sequences",
                model=model,
                slots=self.slots,
            )
        self._under_way[model] = under_way + n

    def release(self, model: str, n: int) -> None:
        """Gives back what :meth:`admit` took."""
        self._under_way[model] -= n

    def under_way(self, model: str) -> int:
        """Sequences a model has under way."""
        return self._under_way.get(model, 0)
