"""Document 004 §6 system monitoring: ``/api/v1/system/status``, ``/gpu``, ``/metrics``, ``/logs``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request

from gateway.dashboard import views
from gateway.deps import Clients, Settings
from gateway.dialects import dialect_router
from gateway.request_id import request_id_of
from services.common.errors import InvalidInput

router = dialect_router("llama_gpu", "llama-gpu system")

TIMEFRAMES = ("1h", "6h", "24h", "7d")
GRANULARITIES = ("1m", "5m", "15m", "1h")


@router.get("/api/v1/system/status", summary="System health and status")
async def system_status(request: Request, clients: Clients, settings: Settings) -> dict[str, Any]:
    """Health, host and GPU use, each service's state and request statistics."""
    checks = {c.name: c for c in await clients.check_all(settings.health_timeout_seconds)}
    running = {name: "running" if c.serving else "unavailable" for name, c in checks.items()}
    series = await views.history(clients, 300, 0)
    latest = views.sample(series.latest) if series.HasField("latest") else None
    devices = await views.devices(clients) if checks["inference"].serving else None
    gpus = views.gpus(devices) if devices else []
    stats = await views.stats(clients) if checks["inference"].serving else None
    total = views.totals(stats) if stats else None
    down = [n for n, state in running.items() if state != "running"]
    events = getattr(request.app.state, "events", None)
    return {
        "success": True,
        "status": "healthy" if not down else "degraded",
        "uptime": views.uptime(request),
        "version": settings.version,
        "system": {
            "cpu_usage": latest["cpu_usage"] if latest else None,
            "memory_usage": latest["memory_usage"] if latest else None,
            "disk_usage": latest["disk_usage"] if latest else None,
            "gpu_count": len(gpus),
            "gpu_usage": [g["utilization"] for g in gpus],
            "gpu_memory": [
                round(100 * g["memory_used"] / g["memory_total"], 1) if g["memory_total"] else None
                for g in gpus
            ],
            "device_summary": devices.summary if devices else None,
        },
        "services": {
            "inference_engine": running["inference"],
            "model_registry": running["registry"],
            "speech": running["speech"],
            "autoscaler": running["autoscaler"],
            "auth": running["auth"],
            # This answer comes from the process that serves /dashboard.
            "web_dashboard": "running",
            "websocket_server": "running" if events is not None and events.running else "stopped",
            "websocket_clients": len(events.sessions) if events is not None else 0,
        },
        "statistics": {
            "total_requests": total.requests if total else None,
            "successful_requests": total.requests - total.failures if total else None,
            "error_rate": round(total.error_rate, 6) if total else None,
            "avg_response_time": round(total.mean_latency_ms / 1000, 6) if total else None,
            "requests_per_minute": round(total.request_rate * 60, 3) if total else None,
        },
        "request_id": request_id_of(request),
    }


@router.get("/api/v1/system/gpu", summary="GPU information and metrics")
async def system_gpu(request: Request, clients: Clients) -> dict[str, Any]:
    """Each GPU as NVML measured it (MiB, %, °C); an empty list and the CPU summary without GPUs."""
    devices = await views.devices(clients)
    gpus = [
        {
            "id": g["id"],
            "name": g["name"],
            # From NVML on the inference service's machine; None when NVML cannot say.
            "driver_version": g["driver_version"],
            "cuda_version": g["cuda_version"],
            "memory_total": g["memory_total"],
            "memory_used": g["memory_used"],
            "memory_free": g["memory_free"],
            "utilization": g["utilization"],
            "temperature": g["temperature"],
            "power_usage": g["power_usage"],  # watts
            "power_limit": g["power_limit"],  # watts (enforced limit)
            "compute_capability": g["compute_capability"],
        }
        for g in views.gpus(devices)
    ]
    return {
        "success": True,
        "gpu_count": len(gpus),
        "gpus": gpus,
        "summary": devices.summary,
        "request_id": request_id_of(request),
    }


@router.get("/api/v1/system/metrics", summary="Performance metrics")
async def system_metrics(
    request: Request,
    clients: Clients,
    timeframe: Annotated[str, Query(description="1h, 6h, 24h or 7d.")] = "1h",
    granularity: Annotated[str, Query(description="1m, 5m, 15m or 1h.")] = "5m",
) -> dict[str, Any]:
    """The mesh's time series over the timeframe, one mean per granularity bucket that has samples."""
    span = views.duration(timeframe, "timeframe", TIMEFRAMES)
    step = views.duration(granularity, "granularity", GRANULARITIES)
    reply = await views.history(clients, span, step)
    points = [views.sample(p) for p in reply.points]
    return {
        "success": True,
        "timeframe": timeframe,
        "granularity": granularity,
        "metrics": {
            "timestamps": [p["timestamp"] for p in points],
            "request_rate": [p["request_rate"] for p in points],
            "response_time": [p["response_time"] for p in points],
            "error_rate": [p["error_rate"] for p in points],
            "gpu_utilization": [p["gpu_utilization"] for p in points],
            "memory_usage": [p["memory_usage"] for p in points],
            "cpu_usage": [p["cpu_usage"] for p in points],
            "samples": [p["samples"] for p in points],
        },
        "sample_period_seconds": reply.period_seconds,
        "request_id": request_id_of(request),
    }


@router.get("/api/v1/system/logs", summary="System logs")
async def system_logs(
    request: Request,
    level: Annotated[str, Query(description="debug, info, warning or error (and above).")] = "info",
    limit: Annotated[int, Query(ge=1, le=10_000, description="Most entries returned.")] = 100,
    since: Annotated[str | None, Query(description="ISO timestamp; only newer entries.")] = None,
) -> dict[str, Any]:
    """Structured entries of every process's log, newest first."""
    moment = None
    if since:
        try:
            moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(
                "since must be an ISO 8601 timestamp", details={"field": "since", "value": since}
            ) from None
    entries, total = views.log_directory(request).query(level, limit, moment)
    return {
        "success": True,
        "logs": [
            {
                "timestamp": e.timestamp,
                "level": e.level,
                "component": e.component,
                "message": e.message,
                "metadata": e.metadata,
            }
            for e in entries
        ],
        "total_entries": total,
        "filtered_entries": len(entries),
        "request_id": request_id_of(request),
    }
