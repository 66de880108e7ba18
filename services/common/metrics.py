"""Prometheus metrics of a service process, served as text at ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Histogram, start_http_server

GRPC_CALLS = Counter("meshserve_grpc_calls_total", "gRPC calls handled", ["method", "outcome"])
GRPC_LATENCY = Histogram("meshserve_grpc_call_seconds", "gRPC call latency", ["method"])


def start_metrics_server(host: str, port: int) -> None:
    """Serves ``/metrics`` on its own port in a background thread."""
    start_http_server(port, addr=host)
