"""The statistics of the whole inference pool: ``GetStats`` from every inference endpoint that
discovery lists (a static list, Consul's healthy instances, or the pods behind a Kubernetes
headless Service), summed per model.

Counters, in-flight and queue depths, rates and request-seconds add up. Latency percentiles cannot
be merged exactly from summaries; the pool's are the worst replica's (the conservative reading for
scaling), and its mean is weighted by requests. Workers keep their replica in their id
(``host:port/worker``). An endpoint that does not answer is left out of the sum, and the sum says
which endpoints it counted (``last_endpoints``, carried by each decision).
"""

from __future__ import annotations

import asyncio
import logging

from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.common.clients import unary_call
from services.common.errors import BackendUnavailable, MeshError
from services.common.inference_endpoints import InferenceEndpoints

log = logging.getLogger("meshserve.autoscaler.pool")

SUMMED = ("requests", "failures", "in_flight", "queue_depth", "request_rate", "tokens_per_second", "replicas")


def merge_stats(replies: list[tuple[str, ipb.GetStatsResponse]]) -> ipb.GetStatsResponse:
    """One pool-wide reply from each endpoint's."""
    merged = ipb.GetStatsResponse()
    models: dict[str, ipb.ModelStats] = {}
    weights: dict[str, list[tuple[int, ipb.ModelStats]]] = {}
    for endpoint, reply in replies:
        for model in reply.models:
            into = models.setdefault(model.model_name, ipb.ModelStats(model_name=model.model_name))
            for name in SUMMED:
                setattr(into, name, getattr(into, name) + getattr(model, name))
            into.in_flight_seconds += model.in_flight_seconds
            for name in ("p50_ms", "p90_ms", "p95_ms", "p99_ms"):
                setattr(into.latency, name, max(getattr(into.latency, name), getattr(model.latency, name)))
            weights.setdefault(model.model_name, []).append((model.requests, model))
        for worker in reply.workers:
            copy = merged.workers.add()
            copy.CopyFrom(worker)
            copy.worker_id = f"{endpoint}/{worker.worker_id}"
    for name, into in models.items():
        parts = weights[name]
        total = sum(n for n, _ in parts)
        if total:
            into.latency.mean_ms = sum(n * m.latency.mean_ms for n, m in parts) / total
            into.queue_ms = sum(n * m.queue_ms for n, m in parts) / total
        merged.models.append(into)
    merged.uptime_seconds = min((r.uptime_seconds for _, r in replies), default=0.0)
    return merged


class PoolStatsSource:
    """Reads every inference endpoint and sums them (:class:`~.sources.StatsSource`)."""

    def __init__(
        self, endpoints: InferenceEndpoints, fallback: ipb_grpc.InferenceServiceStub, timeout: float = 5.0
    ) -> None:
        self.endpoints = endpoints
        self.fallback = fallback  # device facts: any one replica's machine
        self.timeout = timeout
        self.last_endpoints: tuple[str, ...] = ()

    async def stats(self) -> ipb.GetStatsResponse:
        """The pool's statistics; BackendUnavailable when no endpoint answers."""
        stubs = await self.endpoints.stubs()
        answers = await asyncio.gather(
            *(
                unary_call(s.GetStats, ipb.GetStatsRequest(), timeout=self.timeout, idempotent=True)
                for _, s in stubs
            ),
            return_exceptions=True,
        )
        replies: list[tuple[str, ipb.GetStatsResponse]] = []
        for (endpoint, _), answer in zip(stubs, answers, strict=True):
            if isinstance(answer, MeshError):
                log.warning(
                    "inference endpoint left out of the pool's statistics", extra={"endpoint": endpoint}
                )
            elif isinstance(answer, BaseException):
                raise answer
            else:
                replies.append((endpoint, answer))
        if not replies:
            raise BackendUnavailable(
                "no inference endpoint answered for statistics",
                details={"endpoints": ",".join(e for e, _ in stubs)},
            )
        self.last_endpoints = tuple(e for e, _ in replies)
        return merge_stats(replies)

    async def devices(self) -> ipb.GetDeviceInfoResponse:
        """``GetDeviceInfo`` of one replica."""
        return await unary_call(
            self.fallback.GetDeviceInfo,
            ipb.GetDeviceInfoRequest(),
            timeout=self.timeout,
            idempotent=True,
        )

    async def close(self) -> None:
        """Closes the per-endpoint channels."""
        await self.endpoints.close()
