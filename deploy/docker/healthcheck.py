"""Container health check: ``grpc HOST:PORT`` (grpc.health.v1 SERVING) or ``http URL`` (HTTP 200).

Used by the images' HEALTHCHECK and by docker compose; exits 0 when healthy, 1 otherwise.
Kubernetes uses its native gRPC and HTTP probes instead.
"""

from __future__ import annotations

import sys
import urllib.request


def grpc_serving(address: str) -> bool:
    """Whether the gRPC server at ``address`` reports SERVING."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=3)
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def http_ok(url: str) -> bool:
    """Whether ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=3) as reply:
            return reply.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    kind, target = sys.argv[1], sys.argv[2]
    sys.exit(0 if (grpc_serving(target) if kind == "grpc" else http_ok(target)) else 1)
