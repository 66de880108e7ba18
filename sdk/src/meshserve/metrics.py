"""What a client observed of its own requests (document 000's ``enable_metrics`` and
``get_metrics``): requests per second, latency and error rate over a sliding window."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass
class _Sample:
    at: float
    latency_ms: float
    failed: bool


class Metrics:
    """What this client observed (000 ``enable_metrics``/``get_metrics``), over a sliding window."""

    def __init__(self, window_seconds: float = 60.0) -> None:
        self.window = window_seconds
        self.enabled = False
        self._samples: deque[_Sample] = deque(maxlen=100_000)
        self._lock = threading.Lock()
        self.total = 0
        self.errors = 0

    def record(self, latency_ms: float, failed: bool) -> None:
        """Adds one request (when enabled)."""
        if not self.enabled:
            return
        with self._lock:
            self._samples.append(_Sample(time.monotonic(), latency_ms, failed))
            self.total += 1
            self.errors += int(failed)

    def snapshot(self) -> dict[str, Any]:
        """rps, avg/p95 latency and error rate (%) of the last window, plus totals."""
        now = time.monotonic()
        with self._lock:
            recent = [s for s in self._samples if now - s.at <= self.window]
        latencies = sorted(s.latency_ms for s in recent)
        span = max(now - recent[0].at, 1e-3) if recent else 0.0
        return {
            "rps": round(len(recent) / span, 3) if recent else 0.0,
            "avg_latency_ms": round(sum(latencies) / len(latencies), 3) if latencies else 0.0,
            "p95_latency_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 3) if latencies else 0.0,
            "error_rate": round(100.0 * sum(s.failed for s in recent) / len(recent), 3) if recent else 0.0,
            "requests": len(recent),
            "total_requests": self.total,
            "total_errors": self.errors,
            "window_seconds": self.window,
        }
