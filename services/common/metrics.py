"""Prometheus metrics of a meshserve process, served as text at ``/metrics``, and host measurements.

Every process serves its metrics: services on ``metrics_port`` (their own HTTP listener), the gateway
at ``/metrics`` on its HTTP port. :func:`host_snapshot` measures the machine with psutil; nothing here
is estimated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

GRPC_CALLS = Counter("meshserve_grpc_calls_total", "gRPC calls handled", ["method", "outcome"])
GRPC_LATENCY = Histogram("meshserve_grpc_call_seconds", "gRPC call latency", ["method"])

HTTP_REQUESTS = Counter(
    "meshserve_http_requests_total", "HTTP requests answered by the gateway", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "meshserve_http_request_seconds",
    "HTTP request latency at the gateway (to the last byte of the response)",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
HTTP_IN_FLIGHT = Gauge("meshserve_http_requests_in_flight", "HTTP requests in progress at the gateway")
INFERENCE_EVENTS = Counter(
    "meshserve_inference_requests_total", "Inference requests seen at the gateway", ["outcome"]
)

AUTOSCALER_DECISIONS = Counter(
    "meshserve_autoscaler_decisions_total", "Scaling decisions", ["target", "direction", "trigger"]
)
AUTOSCALER_REPLICAS = Gauge("meshserve_autoscaler_replicas", "Replicas of a target", ["target"])
AUTOSCALER_DESIRED = Gauge(
    "meshserve_autoscaler_desired_replicas", "Replicas a policy wanted at its last evaluation", ["target"]
)
AUTOSCALER_MAX = Gauge(
    "meshserve_autoscaler_max_replicas", "The most replicas a policy allows its target", ["target"]
)
AUTOSCALER_METRIC = Gauge(
    "meshserve_autoscaler_metric_value",
    "Value of a policy's metric at its last evaluation",
    ["target", "metric"],
)
AUTOSCALER_EVALUATIONS = Counter(
    "meshserve_autoscaler_evaluations_total", "Control loop evaluations", ["outcome"]
)


def start_metrics_server(host: str, port: int) -> None:
    """Serves ``/metrics`` on its own port in a background thread."""
    start_http_server(port, addr=host)


def render_latest() -> tuple[bytes, str]:
    """This process's metrics in the Prometheus text format, with its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST


@dataclass(frozen=True)
class HostSnapshot:
    """The machine at one instant, as psutil measured it."""

    at: float
    cpu_percent: float
    memory_percent: float
    disk_percent: float
    net_rx_bytes: int
    net_tx_bytes: int


# psutil measures CPU use between two calls, and its first call in a process has no "before" (it
# returns a constant 0.0): this one, at import, is that first call.
psutil.cpu_percent(interval=None)


def cpu_percent() -> float:
    """System-wide CPU use since the previous call in this process (since import, the first time)."""
    return float(psutil.cpu_percent(interval=None))


def host_snapshot(disk_path: Path | str = ".") -> HostSnapshot:
    """CPU (since the previous call in this process), memory, disk and network counters."""
    net = psutil.net_io_counters()
    try:
        disk = psutil.disk_usage(str(disk_path)).percent
    except OSError:
        disk = psutil.disk_usage("/").percent
    return HostSnapshot(
        at=time.monotonic(),
        cpu_percent=cpu_percent(),
        memory_percent=psutil.virtual_memory().percent,
        disk_percent=disk,
        net_rx_bytes=int(net.bytes_recv) if net else 0,
        net_tx_bytes=int(net.bytes_sent) if net else 0,
    )


def network_rates(before: HostSnapshot | None, after: HostSnapshot) -> tuple[float, float]:
    """Bytes per second received and sent between two snapshots (0 for the first)."""
    if before is None or after.at <= before.at:
        return 0.0, 0.0
    span = after.at - before.at
    return (
        max(0.0, (after.net_rx_bytes - before.net_rx_bytes) / span),
        max(0.0, (after.net_tx_bytes - before.net_tx_bytes) / span),
    )
