"""The body of the Socket.IO ``inference_stats`` event, from the inference service's ``GetStats``."""

from __future__ import annotations

from typing import Any

from meshserve.v1 import inference_pb2 as ipb


def inference_stats_payload(stats: ipb.GetStatsResponse | None) -> dict[str, Any]:
    """Per-model statistics and workers, as the ``inference_stats`` channel shows them."""
    if stats is None:
        return {"available": False, "models": [], "workers": None}
    models = [
        {
            "model": m.model_name,
            "requests": m.requests,
            "failures": m.failures,
            "in_flight": m.in_flight,
            "queue_depth": m.queue_depth,
            "latency_p50_ms": round(m.latency.p50_ms, 3),
            "latency_p99_ms": round(m.latency.p99_ms, 3),
            "request_rate": round(m.request_rate, 4),
            "tokens_per_second": round(m.tokens_per_second, 3),
            "replicas": m.replicas,
        }
        for m in stats.models
    ]
    return {
        "available": True,
        "models": models,
        "workers": len(stats.workers),
        "total_requests": sum(m.requests for m in stats.models),
        "tokens_per_second": round(sum(m.tokens_per_second for m in stats.models), 3),
    }
