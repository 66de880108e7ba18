"""Readiness probes: gRPC health for services, HTTP /health reachability for the gateway; and
whether a port is still free to listen on."""

from __future__ import annotations

import errno
import socket

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc


async def grpc_serving(address: str, timeout: float = 1.0) -> str:
    """The grpc.health.v1 status of a server, or UNREACHABLE."""
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
        except grpc.aio.AioRpcError:
            return "UNREACHABLE"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


async def http_answering(url: str, timeout: float = 1.0) -> int:
    """HTTP status of a GET, or 0 when nothing answers."""
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            return (await client.get(url)).status_code
    except httpx.HTTPError:
        return 0


def port_taken(host: str, port: int) -> bool:
    """Whether another socket already listens on host:port (so a server started there could not).

    Binds as the mesh's servers do, with SO_REUSEADDR, so the TIME_WAIT connections of a mesh just
    stopped do not count. Any other failure (an address this machine does not have) is left to the
    server to report.
    """
    try:
        socket.create_server((host, port)).close()
    except OSError as error:
        return error.errno == errno.EADDRINUSE
    return False
