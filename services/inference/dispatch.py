"""The tensor data path: one request to the least-loaded worker holding its model, over that
worker's keep-alive HTTP client (:mod:`services.inference.triton_http`). A worker that dies
mid-request is replaced, and an idempotent request is retried once on another worker; a failure
becomes the canonical error of the request.

Admission: a model takes at most ``max_in_flight`` requests at once (waiting and running); one more
is refused at once with RESOURCE_EXHAUSTED and ``Retry-After``, rather than queueing until its
deadline, so the requests admitted keep their latency under overload. A request that Triton's own
bounded queue rejects (``default_queue_policy``, :mod:`services.inference.repository`) is refused
the same way, not retried: the worker is alive, only busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from prometheus_client import Counter, Gauge

from services.common.errors import (
    AtCapacity,
    BackendUnavailable,
    DeadlineExceeded,
    InferenceFailed,
    InvalidInput,
)
from services.inference.pool import WorkerPool
from services.inference.tensors import WireTensor
from services.inference.triton_http import HttpInferResult, WorkerError
from services.inference.worker import TritonWorker

log = logging.getLogger("meshserve.inference.dispatch")

REFUSED = Counter(
    "meshserve_inference_refused_total", "Tensor requests refused at admission (model at capacity)", ["model"]
)
MAX_IN_FLIGHT = Gauge(
    "meshserve_inference_max_in_flight_per_model", "Tensor requests a model takes at once before refusing"
)


class TensorDispatcher:
    """Runs tensor requests on the pool's workers."""

    def __init__(self, pool: WorkerPool, max_in_flight: int = 0, triton_max_queue: int = 0) -> None:
        self.pool = pool
        #: Requests a model takes at once, waiting included (0: unbounded).
        self.max_in_flight = max_in_flight
        #: Requests Triton queues per model, worker and level before rejecting one (0: unbounded).
        self.triton_max_queue = triton_max_queue
        MAX_IN_FLIGHT.set(max_in_flight)

    async def infer(
        self,
        name: str,
        inputs: list[WireTensor],
        outputs: list[str],
        *,
        request_id: str = "",
        timeout: float | None = None,
        idempotent: bool = True,
        priority: int = 0,
        requests: int = 1,
    ) -> tuple[HttpInferResult, TritonWorker]:
        """Runs a request; on a worker failure retries once on another worker when idempotent.
        ``priority`` is its Triton level (1 the highest; 0 the model's default); ``requests``: how
        many callers' requests it joins (their rows concatenated), each counted and admitted as one.

        The model's counter holds the request from its arrival, so one still waiting for a worker
        (pool scaled to zero, model loading) is in ``in_flight`` and ``waiting``: demand the
        autoscaler can see. Its latency is end to end, waits included.
        """
        model = self.pool.stats.model(name)
        if self.max_in_flight and model.in_flight + requests > self.max_in_flight:
            REFUSED.labels(name).inc(requests)
            raise AtCapacity(f"model {name!r}", model.in_flight, self.max_in_flight, model=name)
        for _ in range(requests):
            model.begin()
        started = time.perf_counter()
        ok = False
        try:
            answer = await self._infer_attempts(
                name, inputs, outputs, request_id, timeout, idempotent, priority, requests
            )
            ok = True
            return answer
        finally:
            latency_ms = (time.perf_counter() - started) * 1000
            for _ in range(requests):
                model.end(latency_ms, ok)

    async def _infer_attempts(
        self,
        name: str,
        inputs: list[WireTensor],
        outputs: list[str],
        request_id: str,
        timeout: float | None,
        idempotent: bool,
        priority: int = 0,
        requests: int = 1,
    ) -> tuple[HttpInferResult, TritonWorker]:
        model = self.pool.stats.model(name)
        excluded: frozenset[str] = frozenset()
        attempts = 2 if idempotent else 1
        for attempt in range(attempts):
            model.waiting += requests
            try:
                worker = await self.pool.pick(name, excluded)
            finally:
                model.waiting -= requests
            client = self.pool.http_clients[worker.id]
            counter = self.pool.stats.worker(worker.id)
            for _ in range(requests):
                counter.begin()
            sent = time.perf_counter()
            ok = False
            try:
                result = await client.infer(
                    name, inputs, outputs, request_id=request_id, timeout=timeout, priority=priority
                )
                ok = True
                return result, worker
            except WorkerError as error:
                if await self._worker_failed(worker, error) and attempt + 1 < attempts:
                    log.warning("retrying on another worker", extra={"model": name, "worker": worker.id})
                    excluded = frozenset({worker.id})
                    continue
                raise _model_error(name, error, worker, model.in_flight, self.triton_max_queue) from None
            finally:
                latency_ms = (time.perf_counter() - sent) * 1000
                for _ in range(requests):
                    counter.end(latency_ms, ok)
        raise AssertionError("unreachable")

    async def _worker_failed(self, worker: TritonWorker, error: WorkerError) -> bool:
        """Whether an error came from the worker going away rather than from the request."""
        if not error.worker_gone and worker.alive:
            return False
        if worker.process is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(worker.process.wait(), 1.0)
        if not worker.alive and worker.state == "ready":
            await self.pool.replace(worker)
        return True


def _model_error(
    name: str, error: WorkerError, worker: TritonWorker, in_flight: int = 0, queue_limit: int = 0
) -> Exception:
    """A worker's failure as the canonical error of the request (``in_flight``: the model's
    requests here; ``queue_limit``: Triton's queue size, for a refusal)."""
    details = {"model": name, "worker": worker.id}
    if error.code == "INVALID_ARGUMENT":
        return InvalidInput(f"Triton rejected the request: {error.message}", details=details)
    if error.code == "RESOURCE_EXHAUSTED":  # Triton's batcher queue of the model on that worker is full
        REFUSED.labels(name).inc()
        return AtCapacity(
            f"model {name!r} on worker {worker.id}", in_flight, queue_limit, queue="triton", **details
        )
    if error.code == "DEADLINE_EXCEEDED":
        return DeadlineExceeded(f"the model did not answer in time: {error.message}", details=details)
    if error.worker_gone:
        return BackendUnavailable(f"worker unavailable: {error.message}", details=details)
    return InferenceFailed(f"inference failed: {error.message}", details=details)
