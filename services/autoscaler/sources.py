"""Where the autoscaler's numbers come from: the inference service's statistics and the host.

:class:`StatsSource` is what the control loop needs;
:class:`~services.autoscaler.pool_stats.PoolStatsSource` reads it over gRPC from every inference
endpoint (``GetStats``, ``GetDeviceInfo``); tests pass a fake with the same two methods.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from meshserve.v1 import inference_pb2 as ipb
from services.autoscaler.timeseries import ModelSample, Sample
from services.common.metrics import HostSnapshot, host_snapshot, network_rates


class StatsSource(Protocol):
    """Reads the inference service's statistics."""

    async def stats(self) -> ipb.GetStatsResponse:
        """Per-model and per-worker statistics."""
        ...

    async def devices(self) -> ipb.GetDeviceInfoResponse:
        """Device facts of the workers' machine."""
        ...


def target_metrics(stats: ipb.GetStatsResponse, target: str) -> dict[str, float]:
    """The policy metrics of one target (a model, or ``*`` for every model on the pool), with its
    request total (``requests``) and request-seconds in flight (``in_flight_seconds``)."""
    models = [m for m in stats.models if target == "*" or m.model_name == target]
    workers = list(stats.workers)
    utilization = sum(w.utilization for w in workers) / len(workers) if workers else 0.0
    return {
        "queue_depth": float(sum(m.queue_depth for m in models)),
        "in_flight": float(sum(m.in_flight for m in models)),
        "latency_p99_ms": max((m.latency.p99_ms for m in models), default=0.0),
        "request_rate": sum(m.request_rate for m in models),
        "utilization": utilization,
        "requests": float(sum(m.requests for m in models)),
        "in_flight_seconds": sum(m.in_flight_seconds for m in models),
    }


@dataclass
class Sampler:
    """Turns host snapshots and inference statistics into time-series samples (rates from deltas)."""

    disk_path: Path = Path(".")
    #: Seconds for the rates' intervals (monotonic; tests pass their own).
    clock: Callable[[], float] = time.monotonic
    _host: HostSnapshot | None = None
    _totals: tuple[int, int] | None = None
    #: Each model's (requests, failures) at the previous sample, and when (monotonic seconds).
    _counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    _counts_at: float | None = None
    _gpu_cache: list[tuple[float, float]] = field(default_factory=list)

    def sample(self, stats: ipb.GetStatsResponse | None, devices: ipb.GetDeviceInfoResponse | None) -> Sample:
        """One sample; request fields are None when ``stats`` could not be read."""
        host = host_snapshot(self.disk_path)
        rx, tx = network_rates(self._host, host)
        self._host = host
        gpu_util: tuple[float, ...] = ()
        gpu_mem: tuple[float, ...] = ()
        if devices is not None:
            gpus = [d for d in devices.devices if d.id.startswith("cuda")]
            gpu_util = tuple(
                d.utilization_percent if d.HasField("utilization_percent") else 0.0 for d in gpus
            )
            gpu_mem = tuple(
                100.0 * d.memory_used_bytes / d.memory_total_bytes if d.memory_total_bytes else 0.0
                for d in gpus
            )
        base = {
            "at": time.time(),
            "cpu_usage": host.cpu_percent,
            "memory_usage": host.memory_percent,
            "disk_usage": host.disk_percent,
            "network_rx": rx,
            "network_tx": tx,
            "gpu_utilization": gpu_util,
            "gpu_memory": gpu_mem,
        }
        if stats is None:
            return Sample(**base)  # type: ignore[arg-type]
        requests = sum(m.requests for m in stats.models)
        failures = sum(m.failures for m in stats.models)
        error_rate = 0.0
        if self._totals is not None:
            done, failed = requests - self._totals[0], failures - self._totals[1]
            error_rate = failed / done if done > 0 else 0.0
        self._totals = (requests, failures)
        rate = sum(m.request_rate for m in stats.models)
        models = self._models(stats)
        weighted = [
            (m.latency.mean_ms, m.request_rate or 1e-9) for m in stats.models if m.latency.mean_ms > 0
        ]
        weight = sum(w for _, w in weighted)
        response_ms = sum(v * w for v, w in weighted) / weight if weight else 0.0
        return Sample(
            **base,  # type: ignore[arg-type]
            request_rate=rate,
            response_time=response_ms / 1000.0,
            error_rate=error_rate,
            active_requests=float(sum(m.in_flight for m in stats.models)),
            queue_depth=float(sum(m.queue_depth for m in stats.models)),
            tokens_per_second=sum(m.tokens_per_second for m in stats.models),
            workers=float(len(stats.workers)),
            completed_per_second=sum(m.completed_per_second for m in models),
            failed_per_second=sum(m.failed_per_second for m in models),
            latency_p50_ms=max((m.latency_p50_ms for m in models), default=0.0),
            latency_p95_ms=max((m.latency_p95_ms for m in models), default=0.0),
            latency_p99_ms=max((m.latency_p99_ms for m in models), default=0.0),
            models=models,
        )

    def _models(self, stats: ipb.GetStatsResponse) -> tuple[ModelSample, ...]:
        """Each model's figures, its rates from the change of its counters since the last sample."""
        now = self.clock()
        elapsed = now - self._counts_at if self._counts_at is not None else 0.0
        counts = {m.model_name: (m.requests, m.failures) for m in stats.models}
        samples = []
        for m in sorted(stats.models, key=lambda m: m.model_name):
            before = self._counts.get(m.model_name, (m.requests, m.failures) if not elapsed else (0, 0))
            done, failed = m.requests - before[0], m.failures - before[1]
            if done < 0:  # the inference service restarted: its counters began again
                done, failed = m.requests, m.failures
            samples.append(
                ModelSample(
                    model_name=m.model_name,
                    completed_per_second=done / elapsed if elapsed > 0 else 0.0,
                    failed_per_second=failed / elapsed if elapsed > 0 else 0.0,
                    latency_p50_ms=m.latency.p50_ms,
                    latency_p95_ms=m.latency.p95_ms,
                    latency_p99_ms=m.latency.p99_ms,
                    in_flight=float(m.in_flight),
                    queue_depth=float(m.queue_depth),
                    tokens_per_second=m.tokens_per_second,
                    replicas=float(m.replicas),
                )
            )
        self._counts, self._counts_at = counts, now
        return tuple(samples)
