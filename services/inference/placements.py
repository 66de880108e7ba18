"""Where a Triton model is loaded, how, and what its loads and evictions count (the worker pool
keeps one :class:`Placement` per model)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge

from services.inference.repository import Batching

MODEL_LOADS = Counter("meshserve_model_loads_total", "Model instances loaded on a worker", ["model"])
MODEL_EVICTIONS = Counter(
    "meshserve_model_evictions_total", "Models unloaded to make room under the memory budget", ["model"]
)
RESIDENT_BYTES = Gauge("meshserve_model_resident_bytes", "Resident memory of a model's instances", ["model"])

#: Writes a model's repository entry before its first load.
Preparer = Callable[[], Awaitable[None]]


@dataclass
class Placement:
    """A Triton model and where it is loaded."""

    name: str
    prepare: Preparer | None = None
    batching: Batching = field(default_factory=Batching)
    device_preference: str = "auto"
    replicas: int = 1
    workers: set[str] = field(default_factory=set)
    status: str = "ready"  # ready | loading | loaded | failed | unloaded
    reason: str = ""
    load_seconds: float = 0.0
    device: str = "cpu"
    #: The language-model engine and why it was chosen, as the loaded model reported them.
    engine: str = ""
    engine_reason: str = ""
    #: Resident bytes one instance needs before its first load is measured (0: unknown).
    estimate_bytes: int = 0
    #: Resident bytes one instance measured after its last load.
    measured_bytes: int = 0
    #: Loads (instances placed) and evictions (unloaded to make room under the memory budget).
    loads: int = 0
    evictions: int = 0
    #: When a request last asked for it (monotonic seconds).
    last_used: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def need_bytes(self) -> int:
        """What one more instance is expected to hold: measured when known, else the estimate."""
        return self.measured_bytes or self.estimate_bytes
