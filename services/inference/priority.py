"""Queue priority of the current call, and the order waiting work is served in.

**Priority** comes from the caller's plan (:data:`~services.common.plans.DEFAULT_PLANS`: anonymous
and free 0, pro 10, enterprise 20; higher is served sooner). :func:`current_priority` reads the plan
of the tenant the server interceptor set for this call and maps it through the plan lookup, which
:func:`use_plans` replaces (for plans an admin edits); an unknown plan is priority 0.

**Order with aging.** Each waiting item's rank is ``enqueued_at - priority * aging_seconds`` and the
smallest rank goes next: a priority level is a head start of ``aging_seconds`` in the queue, never
an absolute right of way. A free request that has waited longer than a premium one's head start
(10 s for pro at 1 s a level) goes before premium requests arriving after that, so lower priority
is never starved. The rank is fixed when an item is queued, so a heap keeps the order exactly.

**Triton levels.** Triton's own priority queue (the tensor models' dynamic batcher) numbers levels
from 1, the highest; :func:`triton_level` maps a priority onto :data:`TRITON_PRIORITY_LEVELS` of
them, one per :data:`TRITON_LEVEL_STEP` of priority, the lowest being the default level. Triton
serves its levels strictly (no aging): its queue is short-lived beside the dynamic batcher's delay.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from services.common.context import tenant_var
from services.common.plans import DEFAULT_PLANS

#: Seconds of head start in a queue per priority level (the default of the settings that set it).
AGING_SECONDS = 1.0
#: Triton priority levels in the tensor models' configs: 1 is served first, the last is the default.
TRITON_PRIORITY_LEVELS = 3
#: Priority per Triton level above the default one (pro 10 → level 2, enterprise 20 → level 1).
TRITON_LEVEL_STEP = 10

PlanPriority = Callable[[str], int]


def _default_lookup(plan: str) -> int:
    known = DEFAULT_PLANS.get(plan)
    return known.priority if known is not None else 0


_lookup: list[PlanPriority] = [_default_lookup]


def use_plans(lookup: PlanPriority | None) -> None:
    """Replaces how a plan's priority is found (None: back to the shipped plans)."""
    _lookup[0] = lookup or _default_lookup


def priority_of(plan: str) -> int:
    """A plan's queue priority; 0 for a plan the lookup does not know."""
    try:
        return int(_lookup[0](plan))
    except (KeyError, LookupError):
        return 0


def current_priority() -> int:
    """The queue priority of the current call's tenant (0 for an anonymous direct call)."""
    return priority_of(tenant_var.get().plan)


def rank(enqueued_at: float, priority: int, aging_seconds: float = AGING_SECONDS) -> float:
    """Where an item queued at ``enqueued_at`` stands: the smallest rank is served first."""
    return enqueued_at - priority * aging_seconds


def triton_level(priority: int) -> int:
    """The Triton priority level of a priority: 1 (highest) … :data:`TRITON_PRIORITY_LEVELS`."""
    return max(1, TRITON_PRIORITY_LEVELS - max(0, priority) // TRITON_LEVEL_STEP)


def current_triton_level() -> int:
    """The current call's Triton level to send, or 0 (Triton's "the model's default level") when it
    is the default one: nothing is sent for the most common requests."""
    level = triton_level(current_priority())
    return 0 if level == TRITON_PRIORITY_LEVELS else level


T = TypeVar("T")


class AgingQueue(Generic[T]):
    """Items served by :func:`rank`, ties in arrival order (a heap; not thread-safe)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, T]] = []
        self._arrivals = itertools.count()

    def push(self, item: T, enqueued_at: float, priority: int, aging_seconds: float = AGING_SECONDS) -> None:
        """Queues an item."""
        heapq.heappush(self._heap, (rank(enqueued_at, priority, aging_seconds), next(self._arrivals), item))

    def peek(self) -> T:
        """The item served next (IndexError when empty)."""
        return self._heap[0][2]

    def pop(self) -> T:
        """Takes the item served next (IndexError when empty)."""
        return heapq.heappop(self._heap)[2]

    def clear(self) -> None:
        """Drops every item."""
        self._heap.clear()

    def __len__(self) -> int:
        return len(self._heap)

    def __bool__(self) -> bool:
        return bool(self._heap)

    def __iter__(self) -> Iterator[T]:
        """The items in no particular order."""
        return (entry[2] for entry in self._heap)
