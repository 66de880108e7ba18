"""The mesh's metrics time series: one sample per period, bucketed on request. No transport imports."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field, fields, replace


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample of the mesh (wall time in Unix seconds); request fields are None when unknown."""

    at: float
    cpu_usage: float
    memory_usage: float
    disk_usage: float
    network_rx: float
    network_tx: float
    request_rate: float | None = None
    response_time: float | None = None
    error_rate: float | None = None
    active_requests: float | None = None
    queue_depth: float | None = None
    tokens_per_second: float | None = None
    workers: float | None = None
    gpu_utilization: tuple[float, ...] = ()
    gpu_memory: tuple[float, ...] = ()
    samples: int = 1

    @property
    def has_inference_stats(self) -> bool:
        """Whether the inference statistics were read for this sample."""
        return self.request_rate is not None


_SCALARS = [
    f.name for f in fields(Sample) if f.name not in ("at", "gpu_utilization", "gpu_memory", "samples")
]


def merge(points: list[Sample], start: float) -> Sample:
    """The mean of some samples as one point starting at ``start``."""

    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    values: dict[str, float | None] = {}
    for name in _SCALARS:
        present = [getattr(p, name) for p in points if getattr(p, name) is not None]
        values[name] = mean(present)
    gpus = max((len(p.gpu_utilization) for p in points), default=0)
    util = tuple(
        mean([p.gpu_utilization[i] for p in points if len(p.gpu_utilization) > i]) or 0.0 for i in range(gpus)
    )
    gmem = tuple(mean([p.gpu_memory[i] for p in points if len(p.gpu_memory) > i]) or 0.0 for i in range(gpus))
    return Sample(at=start, gpu_utilization=util, gpu_memory=gmem, samples=len(points), **values)  # type: ignore[arg-type]


@dataclass
class MetricsSeries:
    """Samples of the last ``keep_seconds``, oldest first."""

    period_seconds: float
    keep_seconds: float = 7 * 24 * 3600.0
    samples: deque[Sample] = field(default_factory=deque)

    def add(self, sample: Sample) -> None:
        """Appends a sample and forgets the ones past the window."""
        self.samples.append(sample)
        cutoff = sample.at - self.keep_seconds
        while self.samples and self.samples[0].at < cutoff:
            self.samples.popleft()

    @property
    def latest(self) -> Sample | None:
        """The newest sample."""
        return self.samples[-1] if self.samples else None

    def query(self, timeframe: float, granularity: float, now: float | None = None) -> list[Sample]:
        """Samples of the last ``timeframe`` seconds; with a granularity, one mean per non-empty bucket."""
        now = time.time() if now is None else now
        since = now - timeframe
        window = [s for s in self.samples if s.at >= since]
        if granularity <= 0:
            return window
        buckets: dict[int, list[Sample]] = {}
        for sample in window:
            buckets.setdefault(math.floor(sample.at / granularity), []).append(sample)
        return [merge(points, index * granularity) for index, points in sorted(buckets.items())]


def with_time(sample: Sample, at: float) -> Sample:
    """A copy of a sample stamped at another time (tests)."""
    return replace(sample, at=at)
