"""gRPC face of tensor inference and the worker pool: translates messages to and from the predictor
and the pool (:class:`~services.inference.pool.WorkerPool`).

Text generation, plugins and advanced inference have faces of their own; ``server.py`` composes
them into the one InferenceService (:func:`services.common.servicers.compose`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import grpc
from opentelemetry import trace

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as pb
from services.common.context import current_request_id, remaining_seconds
from services.common.errors import InternalError, MeshError
from services.common.interceptors import enter_call_context, leave_call_context
from services.common.messages import message_from, record_from
from services.common.metering import Meter
from services.common.multiplex import answer_concurrently
from services.inference.devices import DeviceFacts, machine_facts
from services.inference.jobs.webhooks import WebhookHub
from services.inference.joined import ConcurrentPredictions, JoinedPredictions
from services.inference.llm.service import GenerationService
from services.inference.model_states import ModelStates
from services.inference.placements import Placement
from services.inference.pool import WorkerPool
from services.inference.predictor import PredictCall, Prediction, Predictor
from services.inference.replicas import InferenceReplicas
from services.inference.repository import Batching
from services.inference.stats import Counter
from services.inference.tensors import inputs_by_name

log = logging.getLogger("meshserve.inference")
_tracer = trace.get_tracer("meshserve.grpc")
#: The name of a prediction's server span (the interceptor names a call's span by its method).
PREDICT_SPAN = "/meshserve.v1.InferenceService/Predict"
#: :meth:`ConcurrentPredictions.predict`, or a batch's :meth:`JoinedPredictions.predict`.
PredictFunction = Callable[[PredictCall], Awaitable[Prediction]]


def batching_from_proto(config: pb.BatchingConfig | None) -> Batching | None:
    """A BatchingConfig message as pool batching; None when the message is unset."""
    if config is None:
        return None
    return record_from(Batching, config, preferred_batch_sizes=tuple(config.preferred_batch_sizes))


def device_to_proto(d: DeviceFacts) -> pb.Device:
    """Measured device facts as a Device message (unmeasured values stay unset)."""
    return message_from(pb.Device, d)


def queue_depth(counter: Counter, placement: Placement | None) -> int:
    """Requests waiting for a worker plus those beyond one per replica on the workers."""
    dispatched = counter.in_flight - counter.waiting
    replicas = len(placement.workers) if placement else 0
    return counter.waiting + max(0, dispatched - replicas)


@dataclass(eq=False)
class InferenceServicer:
    """Worker control plane and the tensor data path; ``model.updated`` webhooks after loads and
    unloads when anyone listens."""

    pool: WorkerPool
    predictor: Predictor
    generation: GenerationService
    request_timeout: float = 60.0
    webhooks: WebhookHub | None = None
    meter: Meter | None = None
    #: The other inference replicas, which loads and unloads are passed on to (None: there are none).
    replicas: InferenceReplicas | None = None
    #: ``Predict`` calls of one model and signature, joined while Triton requests of theirs run.
    concurrent: ConcurrentPredictions = field(init=False)
    #: Set when the service drains: batch streams read no more and end once they have answered.
    draining: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.concurrent = ConcurrentPredictions(self.predictor)
        self.states = ModelStates(self.pool, self.predictor, self.generation)

    def _announce(self, model: common.ModelRef, action: str, **facts: object) -> None:
        """A ``model.updated`` event naming the model and what happened to it, when anyone listens."""
        hub = self.webhooks
        if hub is not None and hub.subscribed("model.updated"):
            hub.emit(
                "model.updated",
                {"model_id": model.name, "version": model.version, "action": action, **facts},
            )

    async def Predict(
        self, request: pb.PredictRequest, context: grpc.aio.ServicerContext
    ) -> pb.PredictResponse:
        """Runs one request on the least-loaded worker holding the model."""
        return await self._predict(request)

    async def _predict(
        self, request: pb.PredictRequest, predict: PredictFunction | None = None
    ) -> pb.PredictResponse:
        request_id = request.request_id or current_request_id()
        started = time.perf_counter()
        inputs = inputs_by_name(request.inputs)
        try:
            call = PredictCall(
                request.model.name,
                request.model.version,
                inputs,
                list(request.output_names),
                request.cast_inputs,
                request_id,
                remaining_seconds(self.request_timeout),
            )
            result = await (predict or self.concurrent.predict)(call)
        except MeshError:
            self._meter(request, request_id, started, 0, "error")
            raise
        self._meter(request, request_id, started, sum(math.prod(t.shape) for t in inputs.values()), "ok")
        return pb.PredictResponse(
            model_name=result.entry.spec.name,
            model_version=result.entry.spec.version,
            outputs=[tensor.message() for tensor in result.outputs],
            latency_ms=round(result.latency_ms, 3),
            request_id=request_id,
            device=result.device,
            worker_id=result.worker_id,
        )

    def _meter(
        self, request: pb.PredictRequest, request_id: str, started: float, elements: int, outcome: str
    ) -> None:
        """One prediction's record: the input tensor elements it took."""
        if self.meter is not None:
            self.meter.record_units(
                model=request.model.name,
                units=elements,
                unit="elements",
                started=started,
                outcome=outcome,
                request_id=request_id,
            )

    async def PredictBatch(
        self, request: pb.PredictBatchRequest, context: grpc.aio.ServicerContext
    ) -> pb.PredictBatchResponse:
        """Runs a batch's requests concurrently, each in its own call context (request id, caller,
        tenant, deadline, trace) and with its own outcome: a failed one does not fail the others."""
        return await self._predict_batch(request, context.time_remaining())

    async def PredictBatchStream(
        self, request_iterator: AsyncIterator[pb.PredictBatchStreamRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.PredictBatchStreamResponse]:
        """Batches multiplexed on one stream: each answered as :meth:`PredictBatch` answers it, as soon
        as it is ready, with its id (:mod:`services.common.multiplex`)."""

        async def answer(message: pb.PredictBatchStreamRequest) -> pb.PredictBatchStreamResponse:
            items = message.batch.items
            if len(items) == 1:  # in this task of its own; it joins concurrent ones as a Predict call does
                outcome = await self._predict_item(items[0], None, None)
                return pb.PredictBatchStreamResponse(
                    id=message.id, batch=pb.PredictBatchResponse(outcomes=[outcome])
                )
            return pb.PredictBatchStreamResponse(
                id=message.id, batch=await self._predict_batch(message.batch, None)
            )

        async for response in answer_concurrently(request_iterator, answer, self.draining):
            yield response

    async def _predict_batch(
        self, request: pb.PredictBatchRequest, remaining: float | None
    ) -> pb.PredictBatchResponse:
        joined = JoinedPredictions(self.predictor, len(request.items))
        outcomes = await asyncio.gather(
            *(self._predict_item(item, remaining, joined) for item in request.items)
        )
        return pb.PredictBatchResponse(outcomes=outcomes)

    async def _predict_item(
        self, item: pb.PredictBatchItem, remaining: float | None, joined: JoinedPredictions | None
    ) -> pb.PredictOutcome:
        """One request of a batch, in its own task (so its context variables stay its own); those
        that can are sent to Triton with the batch's others as one request (:mod:`.joined`), or,
        without ``joined``, with concurrent calls' as ``Predict`` sends them."""
        if item.timeout_seconds > 0:
            remaining = (
                min(item.timeout_seconds, remaining) if remaining is not None else item.timeout_seconds
            )
        token = enter_call_context(item.metadata.items(), remaining)
        # The server span a Predict call of its own has, so a prediction's trace reads the same
        # however it came (the batch's call, or the stream's, is no one request's).
        span = _tracer.start_span(PREDICT_SPAN, kind=trace.SpanKind.SERVER)
        try:
            with trace.use_span(span, end_on_exit=True):
                if joined is None:
                    return pb.PredictOutcome(response=await self._predict(item.request))
                with joined.item() as predict:
                    return pb.PredictOutcome(response=await self._predict(item.request, predict))
        except MeshError as error:  # the span recorded it, and ended
            return pb.PredictOutcome(error=error.to_call_error())
        except Exception as error:  # what the interceptor does for a call of its own
            log.exception("unhandled error in a batched prediction")
            return pb.PredictOutcome(error=InternalError(f"internal error: {error}").to_call_error())
        finally:
            leave_call_context(token)

    async def PredictStream(
        self, request_iterator: AsyncIterator[pb.PredictStreamRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.PredictStreamResponse]:
        """One response per request, in order; a failed request ends the stream with its error."""
        async for item in request_iterator:
            yield pb.PredictStreamResponse(response=await self._predict(item.request))

    async def LoadModel(
        self, request: pb.LoadModelRequest, context: grpc.aio.ServicerContext
    ) -> pb.LoadModelResponse:
        """Loads a model with the given batching, device preference and replicas (a language model
        through text generation, with its engine's settings), here and then on the other replicas."""
        spec = await self.generation.language_model(request.model.name)
        if spec is not None:
            spec = await self.generation.load(
                spec, request.device or "auto", request.quantization, request.max_memory
            )
            placement = self.pool.placements[spec.triton_name]
        else:
            batching = batching_from_proto(request.batching) if request.HasField("batching") else None
            _entry, placement = await self.predictor.load(
                request.model.name,
                request.model.version,
                batching,
                request.device or "auto",
                request.replicas,
            )
        if self.replicas is not None and not request.this_replica_only:
            await self.replicas.load(request, remaining_seconds(max(self.request_timeout, 300.0)))
        state = self.states.state(placement)
        await self.states.describe_language_models([state])
        if not request.this_replica_only:
            self._announce(request.model, "loaded", workers=list(state.worker_ids), device=state.device)
        return pb.LoadModelResponse(state=state)

    async def UnloadModel(
        self, request: pb.UnloadModelRequest, context: grpc.aio.ServicerContext
    ) -> pb.UnloadModelResponse:
        """Unloads a model from every worker of every replica (a language model loads again on its
        next request)."""
        spec = await self.generation.language_model(request.model.name)
        if spec is not None:
            freed = await self.generation.unload(spec)
        else:
            freed = await self.predictor.unload(
                request.model.name, request.model.version, standby=request.standby
            )
        if self.replicas is not None and not request.this_replica_only:
            freed += await self.replicas.unload(request, remaining_seconds(self.request_timeout))
        if not request.this_replica_only:
            self._announce(request.model, "unloaded", freed_memory_bytes=freed)
        return pb.UnloadModelResponse(freed_memory_bytes=freed)

    async def ListModelStates(
        self, request: pb.ListModelStatesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListModelStatesResponse:
        """Every model the pool knows, with placement and measured memory."""
        placements = list(self.pool.placements.values())
        states = await asyncio.to_thread(lambda: [self.states.state(p) for p in placements])
        await self.states.describe_language_models(states)
        return pb.ListModelStatesResponse(states=states)

    async def GetStats(
        self, request: pb.GetStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetStatsResponse:
        """Statistics per model (by registry name) and per worker."""
        models = []
        for tname, counter in list(self.pool.stats.models.items()):
            name = self.states.public_ref(tname).name
            if request.model_name and request.model_name not in (name, tname):
                continue
            queue_ms, _ = await self.pool.queue_ms(tname)
            placement = self.pool.placements.get(tname)
            p50, p90, p95, p99 = counter.percentiles(50, 90, 95, 99)
            models.append(
                pb.ModelStats(
                    model_name=name,
                    requests=counter.requests,
                    failures=counter.failures,
                    in_flight=counter.in_flight,
                    queue_depth=queue_depth(counter, placement),
                    latency=pb.LatencySummary(
                        p50_ms=p50,
                        p90_ms=p90,
                        p95_ms=p95,
                        p99_ms=p99,
                        mean_ms=counter.mean(),
                    ),
                    queue_ms=queue_ms,
                    request_rate=counter.rate(),
                    replicas=len(placement.workers) if placement else 0,
                    in_flight_seconds=counter.in_flight_seconds(),
                )
            )
        workers = [
            pb.WorkerStats(
                worker_id=worker_id,
                in_flight=counter.in_flight,
                requests=counter.requests,
                failures=counter.failures,
                utilization=self.pool.stats.utilization(worker_id),
            )
            for worker_id, counter in list(self.pool.stats.workers.items())
            if worker_id in self.pool.workers
        ]
        return pb.GetStatsResponse(
            models=models, workers=workers, uptime_seconds=time.monotonic() - self.pool.stats.started
        )

    async def ListWorkers(
        self, request: pb.ListWorkersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListWorkersResponse:
        """The Triton workers with their addresses, state and models."""
        return pb.ListWorkersResponse(
            workers=[message_from(pb.Worker, w, models=sorted(w.models)) for w in self.pool.workers.values()]
        )

    async def SetWorkerCount(
        self, request: pb.SetWorkerCountRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetWorkerCountResponse:
        """Grows or shrinks the pool (the autoscaler's local driver)."""
        previous, current = await self.pool.set_worker_count(request.count)
        return pb.SetWorkerCountResponse(previous=previous, current=current)

    async def GetDeviceInfo(
        self, request: pb.GetDeviceInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetDeviceInfoResponse:
        """Devices as measured on this machine."""
        facts = await asyncio.to_thread(machine_facts)
        devices = [device_to_proto(d) for d in facts.devices]
        return pb.GetDeviceInfoResponse(
            cuda_available=facts.cuda_available, devices=devices, summary=facts.summary
        )


__all__ = ["InferenceServicer", "MeshError"]
