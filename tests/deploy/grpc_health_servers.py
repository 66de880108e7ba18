"""In-process gRPC servers that serve only grpc.health.v1: cheap instances for discovery tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc


@asynccontextmanager
async def health_server(marker: str) -> AsyncIterator[int]:
    """A server on 127.0.0.1:<free port> whose health service reports SERVING for "" and ``marker``."""
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    for name in ("", marker):
        await servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    try:
        yield port
    finally:
        await server.stop(0)


async def answers_for(channel: grpc.aio.Channel, marker: str) -> bool:
    """Whether the server behind ``channel`` knows ``marker`` (i.e. which instance answered)."""
    try:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=marker), timeout=5
        )
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return False
        raise
    return reply.status == health_pb2.HealthCheckResponse.SERVING
