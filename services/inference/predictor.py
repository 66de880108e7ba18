"""Tensor prediction and model management on the worker pool: the transport-neutral core of the
inference service (the servicer only translates messages).

Conventions a caller can rely on:

* an unnamed input goes to the model's only input;
* an input lacking only the leading (batch) dimension of the declared shape is a batch of one,
  and the outputs lose that dimension again;
* ``cast_inputs`` converts untyped JSON numbers to the declared numeric type when exact;
* a model never loaded is loaded on demand; a model explicitly unloaded answers
  MODEL_NOT_LOADED until it is loaded again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from prometheus_client import Gauge

from meshserve.v1 import common_pb2 as common
from services.common.errors import InvalidInput, MeshError, ModelLoadFailed, ModelNotLoaded
from services.inference.catalog import CatalogEntry, RegistryCatalog
from services.inference.dispatch import TensorDispatcher
from services.inference.placements import Placement
from services.inference.pool import WorkerPool
from services.inference.priority import current_triton_level
from services.inference.repository import Batching, config_pbtxt, runtime_of, triton_name
from services.inference.tensors import WireTensor, concatenated, conform, split_rows

RUNNABLE_FORMATS = ("onnx", "torchscript")
TRITON_MAX_QUEUE = Gauge(
    "meshserve_inference_triton_max_queue_size",
    "Requests a tensor model's Triton batcher queues per worker and priority level before rejecting (0: unbounded)",
)


@dataclass
class Prediction:
    """Outputs of one request and where it ran."""

    entry: CatalogEntry
    outputs: list[WireTensor]
    latency_ms: float
    device: str
    worker_id: str


@dataclass(frozen=True)
class PredictCall:
    """One tensor request as the predictor takes it."""

    name: str
    version: str
    #: Inputs by name ("" for a model's only input).
    inputs: dict[str, WireTensor]
    #: Outputs to return; all when empty.
    output_names: list[str]
    #: Convert untyped (JSON) numbers to the declared datatype when exact.
    cast: bool
    request_id: str
    timeout: float | None


@dataclass
class Prepared:
    """A request checked against its model, ready to run."""

    call: PredictCall
    entry: CatalogEntry
    placement: Placement
    #: The inputs in declared order, a leading batch dimension added where it was left out.
    tensors: list[WireTensor]
    added_batch: bool
    #: The outputs the request named (none: all).
    output_names: list[str]
    #: The outputs it gets back, in order: those named, or every declared one.
    returned: list[str]
    #: Whether Triton batches the model (its inputs' first dimension is the batch).
    batched: bool
    #: The Triton priority level to send (0: the model's default).
    priority: int
    started: float

    @property
    def rows(self) -> int:
        """Rows of a batched request (its first dimension)."""
        return self.tensors[0].shape[0]


class Predictor:
    """Resolves models in the registry, places them on the pool and runs requests."""

    def __init__(
        self,
        pool: WorkerPool,
        catalog: RegistryCatalog,
        default_batching: Batching,
        default_device: str = "auto",
        max_in_flight: int = 0,
    ) -> None:
        self.pool = pool
        self.dispatcher = TensorDispatcher(pool, max_in_flight, default_batching.max_queue_size)
        self.catalog = catalog
        self.default_batching = default_batching
        self.default_device = default_device
        TRITON_MAX_QUEUE.set(default_batching.max_queue_size)
        #: Registry entry of every Triton model this predictor placed, by Triton name.
        self.entries: dict[str, CatalogEntry] = {}

    async def resolve(self, name: str, version: str = "") -> tuple[CatalogEntry, Placement]:
        """The registry entry and the pool placement of a model version (registered if new)."""
        entry = await self.catalog.resolve(name, version)
        if entry.spec.format not in RUNNABLE_FORMATS:
            raise InvalidInput(
                f"model {entry.spec.name!r} is a {entry.spec.format} model, not a tensor model",
                details={"model": entry.spec.name, "format": entry.spec.format},
                suggestion="use the text-generation or speech endpoints for it",
            )
        tname = triton_name(entry.spec.name, entry.spec.version, entry.model.id)
        placement = self.pool.placements.get(tname)
        if placement is None:
            placement = self._register(entry, self.default_batching, self.default_device, 1)
        return entry, placement

    def _register(self, entry: CatalogEntry, batching: Batching, device: str, replicas: int) -> Placement:
        tname = triton_name(entry.spec.name, entry.spec.version, entry.model.id)
        self.entries[tname] = entry

        async def prepare() -> None:
            artifact = await self.catalog.fetch(entry)
            placement = self.pool.placements[tname]
            # The queue bounds and levels are the service's, whatever batching a load asked for.
            batching = replace(
                placement.batching,
                max_queue_size=self.default_batching.max_queue_size,
                queue_timeout_microseconds=self.default_batching.queue_timeout_microseconds,
                priority_levels=self.default_batching.priority_levels,
            )
            config = config_pbtxt(tname, entry.spec, batching, placement.device_preference)
            _, artifact_name = runtime_of(entry.spec.format)
            self.pool.repository.write_tensor_model(tname, config, artifact, artifact_name)

        return self.pool.register(tname, prepare, batching=batching, device=device, replicas=replicas)

    async def prepare(self, call: PredictCall) -> Prepared:
        """A request checked against its model (resolved, placed, inputs conformed), ready to run;
        raises the request's own error otherwise."""
        started = time.perf_counter()
        output_names = call.output_names
        entry, placement = await self.resolve(call.name, call.version)
        if placement.status == "unloaded":
            raise ModelNotLoaded(
                f"model {entry.spec.name!r} is not loaded (it was unloaded)",
                details={"model": entry.spec.name, "version": entry.spec.version},
                suggestion=f"load {entry.spec.name!r} first (a load on any surface, or LoadModel)",
            )
        tensors, added_batch = conform(call.inputs, entry.spec.inputs, cast=call.cast, model=entry.spec.name)
        declared_outputs = [o["name"] for o in entry.spec.outputs]
        for wanted in output_names:
            if wanted not in declared_outputs:
                raise InvalidInput(
                    f"model {entry.spec.name!r} has no output named {wanted!r}",
                    details={"field": wanted, "expected_outputs": ",".join(declared_outputs)},
                )
        batched = placement.batching.max_batch_size > 0 and entry.spec.batchable
        leveled = batched and self.default_batching.priority_levels > 0  # only a leveled batcher
        if batched:
            rows = tensors[0].shape[0]
            if rows > placement.batching.max_batch_size:
                raise InvalidInput(
                    f"batch of {rows} exceeds the model's max batch size {placement.batching.max_batch_size}",
                    details={"max_batch_size": placement.batching.max_batch_size, "batch_size": rows},
                )
        return Prepared(
            call,
            entry,
            placement,
            tensors,
            added_batch,
            output_names,
            output_names or declared_outputs,
            batched,
            current_triton_level() if leveled else 0,
            started,
        )

    async def run(self, prepared: Prepared) -> Prediction:
        """Runs a prepared request on the least-loaded worker holding its model."""
        [prediction] = await self.run_together([prepared])
        return prediction

    async def run_together(self, group: list[Prepared]) -> list[Prediction]:
        """Runs prepared requests of one model and input signature (``joined.joint_key``) as one
        Triton request, their rows concatenated, and splits its outputs back into one prediction
        each. Its deadline is the latest of theirs, its Triton request id the first one's."""
        first = group[0]
        timeouts = [p.call.timeout for p in group]
        timeout = None if None in timeouts else max(t for t in timeouts if t is not None)
        placement, entry = first.placement, first.entry
        tensors = first.tensors if len(group) == 1 else concatenated([p.tensors for p in group])
        was_loaded = placement.status == "loaded"
        try:
            result, worker = await self.dispatcher.infer(
                placement.name,
                tensors,
                first.output_names,
                request_id=first.call.request_id,
                timeout=timeout,
                priority=first.priority,
                requests=len(group),
            )
        except ModelLoadFailed as error:
            await self.catalog.report(entry, common.MODEL_STATUS_FAILED, error.message)
            raise
        if not was_loaded and placement.status == "loaded":
            await self.catalog.report(entry, common.MODEL_STATUS_LOADED)
        outputs: list[list[WireTensor]] = [[] for _ in group]
        for output_name in first.returned:
            tensor = result.tensor(output_name)
            if tensor is None:
                raise MeshError(f"worker returned no output {output_name!r}")
            parts = [tensor] if len(group) == 1 else split_rows(tensor, [p.rows for p in group])
            for prepared, part, into in zip(group, parts, outputs, strict=True):
                if prepared.added_batch and part.shape[:1] == (1,):
                    part = replace(part, shape=part.shape[1:])
                into.append(part)
        ended = time.perf_counter()
        return [
            Prediction(
                entry=entry,
                outputs=out,
                latency_ms=(ended - prepared.started) * 1000,
                device=placement.device,
                worker_id=worker.id,
            )
            for prepared, out in zip(group, outputs, strict=True)
        ]

    async def load(
        self, name: str, version: str, batching: Batching | None, device: str, replicas: int
    ) -> tuple[CatalogEntry, Placement]:
        """Loads a model explicitly, with the given batching, device preference (``auto``: the
        service's default device) and replicas."""
        device = device if device not in ("", "auto") else self.default_device
        entry = await self.catalog.resolve(name, version)
        await self.resolve(name, version)  # checks the format
        tname = triton_name(entry.spec.name, entry.spec.version, entry.model.id)
        old = self.pool.placements[tname]
        new_batching = batching or old.batching
        if old.workers and (new_batching != old.batching or device != old.device_preference):
            await self.pool.unload(tname)  # the config changes: reload with the new one
        placement = self._register(entry, new_batching, device, replicas or old.replicas)
        if placement.status == "unloaded":
            placement.status = "ready"
        await self.catalog.report(entry, common.MODEL_STATUS_LOADING)
        try:
            await self.pool.load(tname)
        except MeshError as error:
            await self.catalog.report(entry, common.MODEL_STATUS_FAILED, error.message)
            raise
        await self.catalog.report(entry, common.MODEL_STATUS_LOADED)
        return entry, placement

    async def discard(self, tname: str) -> int:
        """Forgets a model whose registry record is gone: unloaded from every worker, its placement
        and files dropped; returns the resident bytes it held."""
        self.entries.pop(tname, None)
        self.catalog.forget()
        return await self.pool.discard(tname)

    async def unload(self, name: str, version: str, *, standby: bool = False) -> int:
        """Unloads a model from every worker (``standby``: scaled to zero, loaded again on demand);
        returns the resident bytes it held."""
        entry, placement = await self.resolve(name, version)
        freed = await self.pool.unload(placement.name, standby=standby)
        self.catalog.forget()  # the next request asks the registry again: a deletion may follow
        await self.catalog.report(entry, common.MODEL_STATUS_READY)
        return freed
