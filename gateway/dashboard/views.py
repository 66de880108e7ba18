"""Read-only views of the mesh shared by the operations routes of every dialect (001, 003, 004).

Each function makes the canonical gRPC calls and returns plain facts; the dialect modules only shape
them into their documents. Figures are what the services measured; what nobody measured is None.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from gateway.clients import MeshClients
from gateway.dashboard.settings import OpsSettings
from meshserve.v1 import autoscaler_pb2 as apb
from meshserve.v1 import common_pb2 as cpb
from meshserve.v1 import inference_pb2 as ipb
from services.common.errors import InvalidInput
from services.common.logs import LogDirectory
from services.common.messages import as_dict
from services.common.settings import SERVICE_NAMES

MIB = 1024 * 1024


def ops_settings(request: Request) -> OpsSettings:
    """The operations settings of the app (installed by ``install_ops``)."""
    return getattr(request.app.state, "ops_settings", None) or OpsSettings()


def log_directory(request: Request) -> LogDirectory:
    """The mesh's log directory."""
    return LogDirectory(ops_settings(request).log_dir)


def service_addresses(clients: MeshClients) -> dict[str, str]:
    """Where each service of the mesh is reached."""
    return {name: clients.pool.endpoints.address_of(name) for name in SERVICE_NAMES}


async def stats(clients: MeshClients) -> ipb.GetStatsResponse:
    """Inference statistics per model and worker."""
    return await clients.call(clients.inference.GetStats, ipb.GetStatsRequest(), idempotent=True)


async def devices(clients: MeshClients) -> ipb.GetDeviceInfoResponse:
    """Device facts of the inference service's machine."""
    return await clients.call(clients.inference.GetDeviceInfo, ipb.GetDeviceInfoRequest(), idempotent=True)


async def autoscaler_stats(clients: MeshClients) -> apb.GetAutoscalerStatsResponse:
    """The autoscaler's loop, targets and recent decisions."""
    return await clients.call(
        clients.autoscaler.GetAutoscalerStats, apb.GetAutoscalerStatsRequest(), idempotent=True
    )


async def history(
    clients: MeshClients, timeframe: float, granularity: float
) -> apb.GetMetricsHistoryResponse:
    """The mesh's metrics time series."""
    return await clients.call(
        clients.autoscaler.GetMetricsHistory,
        apb.GetMetricsHistoryRequest(timeframe_seconds=timeframe, granularity_seconds=granularity),
        idempotent=True,
    )


async def loaded_models(clients: MeshClients) -> list[str]:
    """Names of the models loaded on workers."""
    reply = await clients.call(
        clients.inference.ListModelStates, ipb.ListModelStatesRequest(), idempotent=True
    )
    return sorted(s.model.name for s in reply.states if s.status == cpb.MODEL_STATUS_LOADED)


@dataclass(frozen=True)
class Totals:
    """Mesh-wide request figures from the inference statistics."""

    requests: int
    failures: int
    in_flight: int
    queue_depth: int
    request_rate: float
    tokens_per_second: float
    mean_latency_ms: float

    @property
    def error_rate(self) -> float:
        """Failures over requests (0 with no requests)."""
        return self.failures / self.requests if self.requests else 0.0


def totals(reply: ipb.GetStatsResponse) -> Totals:
    """Sums over every model; latency is the request-weighted mean."""
    served = sum(m.requests - m.failures for m in reply.models)
    weighted = sum(m.latency.mean_ms * (m.requests - m.failures) for m in reply.models)
    return Totals(
        requests=sum(m.requests for m in reply.models),
        failures=sum(m.failures for m in reply.models),
        in_flight=sum(m.in_flight for m in reply.models),
        queue_depth=sum(m.queue_depth for m in reply.models),
        request_rate=sum(m.request_rate for m in reply.models),
        tokens_per_second=sum(m.tokens_per_second for m in reply.models),
        mean_latency_ms=weighted / served if served else 0.0,
    )


def model_stats(m: ipb.ModelStats) -> dict[str, Any]:
    """One model's statistics."""
    return {
        "model": m.model_name,
        "requests": m.requests,
        "failures": m.failures,
        "in_flight": m.in_flight,
        "queue_depth": m.queue_depth,
        "latency_ms": {
            "p50": m.latency.p50_ms,
            "p90": m.latency.p90_ms,
            "p99": m.latency.p99_ms,
            "mean": m.latency.mean_ms,
        },
        "queue_ms": m.queue_ms,
        "request_rate": m.request_rate,
        "tokens_per_second": m.tokens_per_second,
        "replicas": m.replicas,
    }


def gpu(d: ipb.Device) -> dict[str, Any]:
    """One GPU as measured (MiB, percent, Celsius)."""
    return {
        "id": int(d.id.split(":")[1]) if ":" in d.id else d.id,
        "device": d.id,
        "name": d.name,
        "memory_total": d.memory_total_bytes // MIB,
        "memory_used": d.memory_used_bytes // MIB,
        "memory_free": (d.memory_total_bytes - d.memory_used_bytes) // MIB,
        "utilization": d.utilization_percent if d.HasField("utilization_percent") else None,
        "temperature": d.temperature_celsius if d.HasField("temperature_celsius") else None,
        "compute_capability": d.compute_capability or None,
        "driver_version": d.driver_version if d.HasField("driver_version") else None,
        "cuda_version": d.cuda_version if d.HasField("cuda_version") else None,
        "power_usage": d.power_usage_watts if d.HasField("power_usage_watts") else None,
        "power_limit": d.power_limit_watts if d.HasField("power_limit_watts") else None,
    }


def gpus(info: ipb.GetDeviceInfoResponse) -> list[dict[str, Any]]:
    """The GPUs among the devices."""
    return [gpu(d) for d in info.devices if d.id.startswith("cuda")]


def cpu(info: ipb.GetDeviceInfoResponse) -> dict[str, Any] | None:
    """The CPU device, as measured."""
    for d in info.devices:
        if d.id == "cpu":
            return {
                "name": d.name,
                "memory_total": d.memory_total_bytes // MIB,
                "memory_used": d.memory_used_bytes // MIB,
                "utilization": d.utilization_percent if d.HasField("utilization_percent") else None,
            }
    return None


def best_gpu(info: ipb.GetDeviceInfoResponse) -> dict[str, Any] | None:
    """The GPU with the most free memory (ties: the least busy), or None without GPUs."""
    found = gpus(info)
    if not found:
        return None
    return max(found, key=lambda g: (g["memory_free"], -(g["utilization"] or 0)))


def decision(d: apb.Decision) -> dict[str, Any]:
    """One scaling decision."""
    return {
        "time": d.time,
        "target": d.target,
        "from_replicas": d.from_replicas,
        "to_replicas": d.to_replicas,
        "reason": d.reason,
        "inputs": dict(d.inputs),
        "trigger": d.trigger,
        "driver": d.driver,
        "applied": d.applied,
    }


def target(t: apb.TargetState) -> dict[str, Any]:
    """One autoscaled target's state."""
    return as_dict(t, last_scale_time=t.last_scale_time or None)


def policy(p: apb.Policy) -> dict[str, Any]:
    """One policy."""
    return as_dict(p)


def autoscaler_body(reply: apb.GetAutoscalerStatsResponse) -> dict[str, Any]:
    """The autoscaler's statistics as JSON."""
    return {
        "running": reply.running,
        "driver": reply.driver,
        "period_seconds": reply.period_seconds,
        "evaluations": reply.evaluations,
        "decisions_total": reply.decisions_total,
        "last_evaluation_time": reply.last_evaluation_time or None,
        "last_error": reply.last_error or None,
        "targets": [target(t) for t in reply.targets],
        "recent_decisions": [decision(d) for d in reply.recent_decisions],
    }


def sample(s: apb.MetricsSample) -> dict[str, Any]:
    """One time-series point; request fields are None when the inference statistics were unknown."""
    known = s.has_inference_stats
    return {
        "timestamp": s.time,
        "cpu_usage": round(s.cpu_usage, 2),
        "memory_usage": round(s.memory_usage, 2),
        "disk_usage": round(s.disk_usage, 2),
        "network_rx": round(s.network_rx),
        "network_tx": round(s.network_tx),
        "request_rate": round(s.request_rate, 4) if known else None,
        "response_time": round(s.response_time, 6) if known else None,
        "error_rate": round(s.error_rate, 6) if known else None,
        "active_requests": s.active_requests if known else None,
        "queue_depth": s.queue_depth if known else None,
        "tokens_per_second": round(s.tokens_per_second, 3) if known else None,
        "workers": s.workers if known else None,
        "gpu_utilization": [round(v, 2) for v in s.gpu_utilization],
        "gpu_memory": [round(v, 2) for v in s.gpu_memory],
        "samples": s.samples,
    }


_UNITS = {"m": 60, "h": 3600, "d": 86400, "s": 1}


def duration(text: str, field: str, allowed: tuple[str, ...]) -> float:
    """``5m``/``1h``/``7d`` in seconds; only the documented values are accepted."""
    if text not in allowed:
        raise InvalidInput(
            f"{field} must be one of {', '.join(allowed)}",
            details={"field": field, "value": text, "allowed": ",".join(allowed)},
        )
    return float(int(text[:-1]) * _UNITS[text[-1]])


def uptime(request: Request) -> float:
    """Seconds since the gateway started."""
    return round(time.time() - request.app.state.started_at, 3)
