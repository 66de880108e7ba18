"""The gateway's gRPC clients: one pooled channel per service, typed stubs, health checks."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from meshserve.v1 import (
    auth_pb2_grpc,
    autoscaler_pb2_grpc,
    experiments_pb2_grpc,
    finetune_pb2_grpc,
    inference_pb2_grpc,
    jobs_pb2_grpc,
    metering_pb2_grpc,
    registry_pb2_grpc,
    speech_pb2_grpc,
)
from services.common.clients import ChannelPool, unary_call
from services.common.settings import SERVICE_NAMES, MeshEndpoints


@dataclass(frozen=True)
class ServiceHealth:
    """Result of one health check."""

    name: str
    address: str
    status: str
    latency_ms: float
    error: str = ""

    @property
    def serving(self) -> bool:
        """Whether the service answered SERVING."""
        return self.status == "SERVING"


class MeshClients:
    """Stubs for every service over one channel pool."""

    def __init__(self, endpoints: MeshEndpoints | None = None, call_timeout: float = 60.0) -> None:
        self.pool = ChannelPool(endpoints)
        self.call_timeout = call_timeout
        self.auth = auth_pb2_grpc.AuthServiceStub(self.pool.channel("auth"))
        # MeteringService is served by the auth process (it owns users, keys and plans).
        self.metering = metering_pb2_grpc.MeteringServiceStub(self.pool.channel("auth"))
        self.registry = registry_pb2_grpc.RegistryServiceStub(self.pool.channel("registry"))
        self.inference = inference_pb2_grpc.InferenceServiceStub(self.pool.channel("inference"))
        # JobService is served by the inference process (jobs run its generations).
        self.jobs = jobs_pb2_grpc.JobServiceStub(self.pool.channel("inference"))
        # ExperimentService too (experiments route its generations).
        self.experiments = experiments_pb2_grpc.ExperimentServiceStub(self.pool.channel("inference"))
        self.finetune = finetune_pb2_grpc.FineTuneServiceStub(self.pool.channel("inference"))
        self.speech = speech_pb2_grpc.SpeechServiceStub(self.pool.channel("speech"))
        self.autoscaler = autoscaler_pb2_grpc.AutoscalerServiceStub(self.pool.channel("autoscaler"))

    async def call(
        self, method: Any, request: Any, *, timeout: float | None = None, idempotent: bool = False
    ) -> Any:
        """A unary call with deadline, propagation and canonical errors."""
        return await unary_call(method, request, timeout=timeout or self.call_timeout, idempotent=idempotent)

    async def check(self, name: str, timeout: float) -> ServiceHealth:
        """Checks one service with grpc.health.v1."""
        address = self.pool.endpoints.address_of(name)
        stub = health_pb2_grpc.HealthStub(self.pool.channel(name))
        started = time.perf_counter()
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
            status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            error = ""
        except grpc.aio.AioRpcError as exc:
            status, error = "UNREACHABLE", f"{exc.code().name}: {exc.details()}"
        latency = round((time.perf_counter() - started) * 1000, 2)
        return ServiceHealth(name, address, status, latency, error)

    async def check_all(self, timeout: float) -> list[ServiceHealth]:
        """Checks every service concurrently."""
        return list(await asyncio.gather(*(self.check(n, timeout) for n in SERVICE_NAMES)))

    async def close(self) -> None:
        """Closes the channels."""
        await self.pool.close()
