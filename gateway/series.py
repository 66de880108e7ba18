"""The autoscaler's metrics series as the dashboard's charts read it: points with Unix-second times
(what uPlot plots on its x axis), the scaling decisions to mark on them, and the relay that sends each
new sample to Socket.IO's ``metrics_samples`` channel once.

The rates of a point are the change of the inference service's request counters since the previous
sample, so the points of any window add up to the requests finished in it: the chart and ``/metrics``
count the same requests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from meshserve.v1 import autoscaler_pb2 as apb


def epoch(rfc3339: str) -> float:
    """An RFC 3339 time as Unix seconds (0 for an empty one)."""
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() if rfc3339 else 0.0


def _latency(value: float, served: bool) -> float | None:
    """A latency percentile, or None for an interval that finished no request: the percentiles are
    over recent requests, and a flat line through an idle stretch would claim requests that took it."""
    return round(value, 3) if served else None


def _model(m: apb.ModelSample) -> dict[str, float | None]:
    served = m.completed_per_second > 0
    return {
        "requests_per_second": round(m.completed_per_second, 4),
        "errors_per_second": round(m.failed_per_second, 4),
        "latency_p50_ms": _latency(m.latency_p50_ms, served),
        "latency_p95_ms": _latency(m.latency_p95_ms, served),
        "latency_p99_ms": _latency(m.latency_p99_ms, served),
        "in_flight": round(m.in_flight, 3),
        "queue_depth": round(m.queue_depth, 3),
        "tokens_per_second": round(m.tokens_per_second, 3),
        "replicas": round(m.replicas, 3),
    }


def chart_point(s: apb.MetricsSample) -> dict[str, Any]:
    """One sample for the charts; request figures are None where the statistics were unknown, which
    the charts draw as a gap rather than as zero."""
    known = s.has_inference_stats
    served = known and s.completed_per_second > 0

    def measured(value: float, digits: int = 4) -> float | None:
        return round(value, digits) if known else None

    return {
        "t": epoch(s.time),
        "requests_per_second": measured(s.completed_per_second),
        "errors_per_second": measured(s.failed_per_second),
        "latency_p50_ms": _latency(s.latency_p50_ms, served),
        "latency_p95_ms": _latency(s.latency_p95_ms, served),
        "latency_p99_ms": _latency(s.latency_p99_ms, served),
        "tokens_per_second": measured(s.tokens_per_second, 3),
        "in_flight": s.active_requests if known else None,
        "queue_depth": s.queue_depth if known else None,
        "workers": s.workers if known else None,
        "cpu_usage": round(s.cpu_usage, 2),
        "memory_usage": round(s.memory_usage, 2),
        "gpu_utilization": [round(v, 2) for v in s.gpu_utilization],
        "models": {m.model_name: _model(m) for m in s.models},
    }


def decision_mark(d: apb.Decision) -> dict[str, Any]:
    """A scaling decision as a mark on the charts' time axis."""
    return {
        "t": epoch(d.time),
        "target": d.target,
        "from_replicas": d.from_replicas,
        "to_replicas": d.to_replicas,
        "trigger": d.trigger,
        "reason": d.reason,
        "applied": d.applied,
    }


class SampleRelay:
    """Picks the samples of a history reply that have not been relayed yet (the newest one only, the
    first time: a page loads what came before from ``/dashboard/history``)."""

    def __init__(self) -> None:
        self.last: float | None = None

    def fresh(self, reply: apb.GetMetricsHistoryResponse) -> list[dict[str, Any]]:
        """Chart points newer than the last relayed one, oldest first."""
        points = [chart_point(p) for p in reply.points]
        if self.last is None:
            points = points[-1:]
        else:
            points = [p for p in points if p["t"] > self.last]
        if points:
            self.last = points[-1]["t"]
        return points
