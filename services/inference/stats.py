"""Per-model and per-worker request statistics kept by the inference service. No transport imports."""

from __future__ import annotations

import bisect
import time
from collections import deque
from dataclasses import dataclass, field

#: Upper bounds (ms) of the latency histogram buckets; the last bucket is open-ended.
BUCKETS_MS: tuple[float, ...] = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


@dataclass
class Counter:
    """Requests, failures, in-flight and latencies of one model or worker."""

    requests: int = 0
    failures: int = 0
    #: Requests from arrival to their end, those still waiting for a worker included.
    in_flight: int = 0
    #: Requests not yet given a worker (none ready, or the model still loading): a cold start's demand.
    waiting: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_MS) + 1))
    recent_ms: deque[float] = field(default_factory=lambda: deque(maxlen=2048))
    stamps: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))
    busy_since: float = 0.0
    #: Request-seconds in flight up to ``_area_at`` (the integral of ``in_flight`` over time).
    _area: float = 0.0
    _area_at: float = field(default_factory=time.monotonic)
    #: Closed busy stretches (start, end), oldest first, pruned to the utilisation window.
    busy: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=100_000))

    def begin(self) -> None:
        """A request starts."""
        now = time.monotonic()
        self._accumulate(now)
        if self.in_flight == 0:
            self.busy_since = now
        self.in_flight += 1

    def end(self, latency_ms: float, ok: bool) -> None:
        """A request ends."""
        now = time.monotonic()
        self._accumulate(now)
        self.in_flight -= 1
        if self.in_flight == 0:
            self.busy.append((self.busy_since, now))
        self.requests += 1
        if not ok:
            self.failures += 1
            return
        self.histogram[bisect.bisect_left(BUCKETS_MS, latency_ms)] += 1
        self.recent_ms.append(latency_ms)
        self.stamps.append(now)

    def _accumulate(self, now: float) -> None:
        self._area += self.in_flight * (now - self._area_at)
        self._area_at = now

    def in_flight_seconds(self, now: float | None = None) -> float:
        """Request-seconds spent in flight so far: over an interval, its change divided by the
        interval is the mean concurrency, which a single look at ``in_flight`` only samples."""
        now = time.monotonic() if now is None else now
        return self._area + self.in_flight * (now - self._area_at)

    def percentile(self, q: float) -> float:
        """A latency percentile over the recent window, in ms (0 when there is none)."""
        return self.percentiles(q)[0]

    def percentiles(self, *qs: float) -> list[float]:
        """Latency percentiles over the recent window, in ms (0 when there is none), from one sort."""
        if not self.recent_ms:
            return [0.0 for _ in qs]
        ordered = sorted(self.recent_ms)
        return [ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] for q in qs]

    def mean(self) -> float:
        """Mean recent latency in ms."""
        return sum(self.recent_ms) / len(self.recent_ms) if self.recent_ms else 0.0

    def rate(self, window: float = 60.0) -> float:
        """Successful requests per second over the last ``window`` seconds."""
        cutoff = time.monotonic() - window
        count = len(self.stamps) - bisect.bisect_right(self.stamps, cutoff)
        return count / window

    def busy_seconds(self, since: float, now: float) -> float:
        """Seconds between ``since`` and ``now`` with at least one request in flight."""
        while self.busy and self.busy[0][1] <= since:
            self.busy.popleft()  # ended before the window: never needed again
        stretches = list(self.busy)
        if self.in_flight:
            stretches.append((self.busy_since, now))
        return sum(max(0.0, min(end, now) - max(start, since)) for start, end in stretches)


@dataclass
class Statistics:
    """Counters per model and per worker."""

    started: float = field(default_factory=time.monotonic)
    models: dict[str, Counter] = field(default_factory=dict)
    workers: dict[str, Counter] = field(default_factory=dict)
    #: Seconds over which :meth:`utilization` measures the busy fraction.
    window_seconds: float = 10.0

    def model(self, name: str) -> Counter:
        """The counter of a model, created on first use."""
        return _counter(self.models, name)

    def worker(self, worker_id: str) -> Counter:
        """The counter of a worker, created on first use."""
        return _counter(self.workers, worker_id)

    def utilization(self, worker_id: str, now: float | None = None) -> float:
        """Busy fraction of a worker over the last ``window_seconds`` (0 to 1).

        A fixed trailing window, not "since the last call": any number of readers (the autoscaler,
        the dashboard, 001 /stats) get the same answer. Younger than the window, the service's
        uptime is the span.
        """
        now = time.monotonic() if now is None else now
        span = min(self.window_seconds, now - self.started)
        if span <= 0:
            return 0.0
        busy = self.worker(worker_id).busy_seconds(now - span, now)
        return max(0.0, min(1.0, busy / span))


def _counter(counters: dict[str, Counter], key: str) -> Counter:
    """``counters[key]``, created on first use (not ``setdefault``: that builds a Counter, with its
    deques, on every call of the predict hot path)."""
    counter = counters.get(key)
    if counter is None:
        counter = counters[key] = Counter()
    return counter
