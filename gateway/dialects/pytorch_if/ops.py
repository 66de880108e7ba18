"""Document 001 system surface: ``/info``, ``/stats``, ``/config``, ``/gpu/*``, ``/metrics/server``.

Every figure is measured by a service (inference statistics, NVML/psutil device facts, the
autoscaler's time series); a machine without a GPU says "no GPU, running on CPU".
"""

from __future__ import annotations

import platform
import sys
from typing import Any

from fastapi import Request

from gateway.dashboard import views
from gateway.deps import Clients, Settings
from gateway.dialects import dialect_router
from gateway.dialects.pytorch_if.envelope import ops_reply
from services.common.metrics import HTTP_IN_FLIGHT

router = dialect_router("pytorch_if", "pytorch-if operations")


@router.get("/info", summary="Comprehensive system information")
async def info(request: Request, clients: Clients, settings: Settings) -> dict[str, Any]:
    """Version, loaded models, devices and GPU memory (``gpu_memory`` is None without a GPU)."""
    devices = await views.devices(clients)
    models = await views.loaded_models(clients)
    gpus = views.gpus(devices)
    gpu_memory = (
        {
            "total_mb": sum(g["memory_total"] for g in gpus),
            "used_mb": sum(g["memory_used"] for g in gpus),
            "free_mb": sum(g["memory_free"] for g in gpus),
            "per_gpu": [
                {"id": g["id"], "total_mb": g["memory_total"], "used_mb": g["memory_used"]} for g in gpus
            ],
        }
        if gpus
        else None
    )
    return ops_reply(
        request,
        version=settings.version,
        models=models,
        gpu_memory=gpu_memory,
        device="cuda" if devices.cuda_available else "cpu",
        cuda_available=devices.cuda_available,
        summary=devices.summary,
        gpus=gpus,
        cpu=views.cpu(devices),
        services=views.service_addresses(clients),
        python=sys.version.split()[0],
        platform=platform.platform(),
        uptime=views.uptime(request),
    )


@router.get("/stats", summary="Performance statistics")
async def stats(request: Request, clients: Clients) -> dict[str, Any]:
    """Requests, failures, latency, queue and throughput per model and worker, with mesh totals."""
    reply = await views.stats(clients)
    total = views.totals(reply)
    return ops_reply(
        request,
        stats={
            "total_requests": total.requests,
            "failed_requests": total.failures,
            "error_rate": total.error_rate,
            "in_flight": total.in_flight,
            "queue_depth": total.queue_depth,
            "requests_per_second": total.request_rate,
            "tokens_per_second": total.tokens_per_second,
            "avg_latency_ms": total.mean_latency_ms,
            "uptime_seconds": reply.uptime_seconds,
        },
        models=[views.model_stats(m) for m in reply.models],
        workers=[
            {
                "worker_id": w.worker_id,
                "in_flight": w.in_flight,
                "requests": w.requests,
                "failures": w.failures,
                "utilization": w.utilization,
            }
            for w in reply.workers
        ],
    )


@router.get("/config", summary="Configuration information")
async def config(request: Request, clients: Clients, settings: Settings) -> dict[str, Any]:
    """The gateway's effective configuration and where each service lives (no secrets)."""
    scaler = await views.autoscaler_stats(clients)
    ops = views.ops_settings(request)
    return ops_reply(
        request,
        config={
            "version": settings.version,
            "gateway": {
                "host": settings.host,
                "port": settings.port,
                "log_level": settings.log_level,
                "call_timeout_seconds": settings.call_timeout_seconds,
                "health_timeout_seconds": settings.health_timeout_seconds,
            },
            "events_period_seconds": ops.events_period_seconds,
            "log_dir": str(ops.log_dir),
            "services": views.service_addresses(clients),
            "autoscaler": {
                "driver": scaler.driver,
                "period_seconds": scaler.period_seconds,
                "running": scaler.running,
            },
        },
    )


@router.get("/gpu/detect", summary="Detect available GPUs")
async def gpu_detect(request: Request, clients: Clients) -> dict[str, Any]:
    """GPUs found by NVML on the workers' machine."""
    devices = await views.devices(clients)
    found = views.gpus(devices)
    return ops_reply(
        request,
        cuda_available=devices.cuda_available,
        gpu_count=len(found),
        gpus=found,
        summary=devices.summary,
    )


@router.get("/gpu/best", summary="Best GPU for inference")
async def gpu_best(request: Request, clients: Clients) -> dict[str, Any]:
    """The GPU with the most free memory; the CPU when there is none."""
    devices = await views.devices(clients)
    best = views.best_gpu(devices)
    return ops_reply(
        request,
        best_gpu=best,
        device=best["device"] if best else "cpu",
        reason="most free memory" if best else devices.summary,
    )


@router.get("/gpu/config", summary="GPU-optimized configuration")
async def gpu_config(request: Request, clients: Clients) -> dict[str, Any]:
    """The device and precision the measured hardware supports."""
    devices = await views.devices(clients)
    best = views.best_gpu(devices)
    capability = float(best["compute_capability"]) if best and best["compute_capability"] else 0.0
    return ops_reply(
        request,
        device=best["device"] if best else "cpu",
        cuda_available=devices.cuda_available,
        # fp16 tensor cores from compute capability 7.0; bf16 from 8.0; CPUs run fp32.
        precision="bf16" if capability >= 8.0 else "fp16" if capability >= 7.0 else "fp32",
        supported_precisions=(
            ["fp32", "fp16", "bf16"] if capability >= 8.0 else ["fp32", "fp16"] if best else ["fp32"]
        ),
        memory_free_mb=best["memory_free"] if best else None,
        summary=devices.summary,
    )


@router.get("/gpu/report", summary="Comprehensive GPU report")
async def gpu_report(request: Request, clients: Clients) -> dict[str, Any]:
    """Every device as measured, the best GPU and the summary."""
    devices = await views.devices(clients)
    return ops_reply(
        request,
        summary=devices.summary,
        cuda_available=devices.cuda_available,
        gpu_count=len(views.gpus(devices)),
        gpus=views.gpus(devices),
        best_gpu=views.best_gpu(devices),
        cpu=views.cpu(devices),
    )


@router.get("/metrics/server", summary="Server performance metrics")
async def metrics_server(request: Request, clients: Clients) -> dict[str, Any]:
    """Host figures from the mesh's newest sample, request totals and the gateway's in-flight."""
    series = await views.history(clients, 300, 0)
    reply = await views.stats(clients)
    total = views.totals(reply)
    return ops_reply(
        request,
        system=views.sample(series.latest) if series.HasField("latest") else None,
        requests={
            "total": total.requests,
            "failed": total.failures,
            "in_flight": total.in_flight,
            "queue_depth": total.queue_depth,
            "requests_per_second": total.request_rate,
            "avg_latency_ms": total.mean_latency_ms,
            "tokens_per_second": total.tokens_per_second,
        },
        gateway={"http_in_flight": HTTP_IN_FLIGHT._value.get(), "uptime": views.uptime(request)},
        workers=len(reply.workers),
    )
