"""The gateway's gRPC clients: one pooled channel per service, typed stubs, health checks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.batch_stream import STREAMS, BatchStream, StreamedPredictions
from gateway.coalesce import PredictCoalescer
from meshserve.grpc import error_detail
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
from meshserve.v1 import inference_pb2 as ipb
from services.common.clients import ChannelPool, backoff_seconds, unary_call
from services.common.errors import MeshError
from services.common.internal_auth import outbound_metadata
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

    def __init__(
        self,
        endpoints: MeshEndpoints | None = None,
        call_timeout: float = 60.0,
        restart_wait: float = 0.0,
        predict_calls: int = 2,
        predict_streams: int = STREAMS,
    ) -> None:
        self.pool = ChannelPool(endpoints)
        self.call_timeout = call_timeout
        #: How long a call waits for a service that has no live replica (see the gateway's settings).
        self.restart_wait = restart_wait
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
        self.batch_stream = (
            BatchStream(
                lambda: self.inference.PredictBatchStream(metadata=outbound_metadata()), predict_streams
            )
            if predict_streams
            else None
        )
        sends = StreamedPredictions(
            self.batch_stream,
            lambda request, timeout: self.call(
                self.inference.Predict, request, timeout=timeout, idempotent=True
            ),
            lambda batch, timeout: self.call(
                self.inference.PredictBatch, batch, timeout=timeout, idempotent=True
            ),
        )
        self.predictions = PredictCoalescer(sends.one, sends.batch, predict_calls)

    async def predict(self, request: ipb.PredictRequest) -> ipb.PredictResponse:
        """A tensor prediction, coalesced with others under concurrency (:mod:`gateway.coalesce`)."""
        return await self.predictions.predict(request, self.call_timeout)

    async def call(
        self, method: Any, request: Any, *, timeout: float | None = None, idempotent: bool = False
    ) -> Any:
        """A unary call with deadline, propagation and canonical errors; an idempotent one is tried
        again for up to ``restart_wait`` seconds while its service is away."""
        return await unary_call(
            method,
            request,
            timeout=timeout or self.call_timeout,
            idempotent=idempotent,
            retry_seconds=self.restart_wait,
        )

    async def connected(self, service: str) -> None:
        """Waits, up to ``restart_wait`` seconds, for a service with no live replica to answer again."""
        if self.restart_wait > 0:
            await self.pool.connected(service, self.restart_wait)

    async def open_stream(self, service: str, start: Callable[[], Any], what: str) -> tuple[Any, Any]:
        """A server stream started by ``start()`` and its first message.

        It waits first for a service with no live replica. A stream whose connection broke before its
        first message (UNAVAILABLE without the service's own error detail: the process serving it
        died, and what it had received died with it) is opened again, after waiting for the service,
        until ``restart_wait`` has passed (the channel may take a moment to see the connection gone).
        An error the service sent is raised as it is.
        """
        give_up = time.monotonic() + self.restart_wait
        await self.connected(service)
        attempt = 0
        while True:
            call = start()
            try:
                first = await call.read()
            except grpc.aio.AioRpcError as error:
                went_away = error.code() is grpc.StatusCode.UNAVAILABLE and error_detail(error) is None
                if not went_away or time.monotonic() >= give_up:
                    raise MeshError.from_rpc_error(error) from None
                await asyncio.sleep(backoff_seconds(attempt, cap=0.5))
                await self.pool.connected(service, max(0.0, give_up - time.monotonic()), after_failure=True)
                attempt += 1
                continue
            if first is grpc.aio.EOF:
                raise MeshError(f"the {what} ended without a reply")
            return call, first

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
        """Ends the prediction streams, then closes the channels."""
        if self.batch_stream is not None:
            self.batch_stream.close()
        await self.pool.close()
