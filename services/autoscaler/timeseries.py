"""The mesh's metrics time series: one sample per period, bucketed on request. No transport imports."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field, fields, replace


@dataclass(frozen=True, slots=True)
class ModelSample:
    """One model's part of a sample."""

    model_name: str
    completed_per_second: float = 0.0
    failed_per_second: float = 0.0
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    latency_p99_ms: float = 0.0
    in_flight: float = 0.0
    queue_depth: float = 0.0
    tokens_per_second: float = 0.0
    replicas: float = 0.0


_MODEL_SCALARS = [f.name for f in fields(ModelSample) if f.name != "model_name"]


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
    completed_per_second: float | None = None
    failed_per_second: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None
    gpu_utilization: tuple[float, ...] = ()
    gpu_memory: tuple[float, ...] = ()
    samples: int = 1
    models: tuple[ModelSample, ...] = ()

    @property
    def has_inference_stats(self) -> bool:
        """Whether the inference statistics were read for this sample."""
        return self.request_rate is not None


_SCALARS = [
    f.name
    for f in fields(Sample)
    if f.name not in ("at", "gpu_utilization", "gpu_memory", "samples", "models")
]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def merge_models(points: list[Sample]) -> tuple[ModelSample, ...]:
    """Each model's mean over the points that have it, in name order."""
    by_name: dict[str, list[ModelSample]] = {}
    for point in points:
        for model in point.models:
            by_name.setdefault(model.model_name, []).append(model)
    return tuple(
        ModelSample(name, **{f: sum(getattr(m, f) for m in ms) / len(ms) for f in _MODEL_SCALARS})
        for name, ms in sorted(by_name.items())
    )


def merge(points: list[Sample], start: float) -> Sample:
    """The mean of some samples as one point starting at ``start``."""
    mean = _mean
    values: dict[str, float | None] = {}
    for name in _SCALARS:
        present = [getattr(p, name) for p in points if getattr(p, name) is not None]
        values[name] = mean(present)
    gpus = max((len(p.gpu_utilization) for p in points), default=0)
    util = tuple(
        mean([p.gpu_utilization[i] for p in points if len(p.gpu_utilization) > i]) or 0.0 for i in range(gpus)
    )
    gmem = tuple(mean([p.gpu_memory[i] for p in points if len(p.gpu_memory) > i]) or 0.0 for i in range(gpus))
    return Sample(
        at=start,
        gpu_utilization=util,
        gpu_memory=gmem,
        samples=len(points),
        models=merge_models(points),
        **values,  # type: ignore[arg-type]
    )


@dataclass
class MetricsSeries:
    """Samples of the last ``keep_seconds``, oldest first; those of the last ``models_keep_seconds``
    keep their per-model breakdown (a week of it for every model would cost hundreds of MB)."""

    period_seconds: float
    keep_seconds: float = 7 * 24 * 3600.0
    models_keep_seconds: float = 3600.0
    samples: deque[Sample] = field(default_factory=deque)
    #: How many of the newest samples may still carry a breakdown.
    _detailed: int = 0

    def add(self, sample: Sample) -> None:
        """Appends a sample and forgets what is past each window."""
        self.samples.append(sample)
        self._detailed += 1
        cutoff = sample.at - self.keep_seconds
        while self.samples and self.samples[0].at < cutoff:
            self.samples.popleft()
        self._detailed = min(self._detailed, len(self.samples))
        models_cutoff = sample.at - self.models_keep_seconds
        while self._detailed:
            index = len(self.samples) - self._detailed  # near the end: cheap to reach in a deque
            oldest = self.samples[index]
            if oldest.at >= models_cutoff:
                break
            if oldest.models:
                self.samples[index] = replace(oldest, models=())
            self._detailed -= 1

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
