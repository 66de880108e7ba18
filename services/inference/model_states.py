"""Placements as ``ModelState`` messages: the registry name a Triton model serves under, its
status, workers, memory and batching, and, for a loaded language model, what its engine reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as pb
from services.common.errors import MeshError
from services.common.messages import message_from
from services.inference.llm.service import GenerationService
from services.inference.placements import Placement
from services.inference.pool import WorkerPool
from services.inference.predictor import Predictor

STATUS = {
    "ready": common.MODEL_STATUS_READY,
    "unloaded": common.MODEL_STATUS_UNLOADED,
    "loading": common.MODEL_STATUS_LOADING,
    "loaded": common.MODEL_STATUS_LOADED,
    "failed": common.MODEL_STATUS_FAILED,
}


@dataclass
class ModelStates:
    """Describes the pool's placements."""

    pool: WorkerPool
    predictor: Predictor
    generation: GenerationService

    def public_ref(self, triton_name: str) -> common.ModelRef:
        """The registry name (and version) of a Triton model: a tensor model's entry, or the language
        model generation placed under it; the Triton name only for a model neither knows."""
        entry = self.predictor.entries.get(triton_name)
        if entry is not None:
            return common.ModelRef(name=entry.spec.name, version=entry.spec.version)
        spec = self.generation.spec_of(triton_name)
        return common.ModelRef(name=spec.model_id if spec is not None else triton_name)

    def state(self, placement: Placement) -> pb.ModelState:
        """A placement as the ModelState message (the engine's figures aside)."""
        return pb.ModelState(
            model=self.public_ref(placement.name),
            status=STATUS.get(placement.status, common.MODEL_STATUS_UNSPECIFIED),
            worker_ids=sorted(placement.workers),
            memory_bytes=self.pool.memory_bytes(placement.name),
            load_seconds=placement.load_seconds,
            device=placement.device,
            batching=message_from(pb.BatchingConfig, placement.batching),
            triton_name=placement.name,
            status_reason=placement.reason,
            engine=placement.engine,
            engine_reason=placement.engine_reason,
            loads=placement.loads,
            evictions=placement.evictions,
        )

    async def describe_language_models(self, states: list[pb.ModelState]) -> None:
        """Adds what the engines report (context, vocabulary, quantization, recent tokens/s) to the
        states of loaded language models."""
        loaded = [
            s
            for s in states
            if s.status == common.MODEL_STATUS_LOADED and self.generation.spec_of(s.triton_name)
        ]
        if not loaded:
            return
        try:
            rows = await self.generation.stats()
        except MeshError:  # a worker going away: the states stay without the engine's figures
            return
        by_triton_name: dict[str, list[dict[str, Any]]] = {}
        for row in rows:  # one row per worker holding each Triton model (a variant is another one)
            by_triton_name.setdefault(row["triton_name"], []).append(row)
        for state in loaded:
            found = by_triton_name.get(state.triton_name)
            if not found:
                continue
            row = found[0]
            state.context_length = int(row.get("context_length", 0))
            state.vocab_size = int(row.get("vocab_size", 0))
            state.quantization = str(row.get("quantization", ""))
            state.tokens_per_second = sum(float(r.get("tokens_per_second", 0.0)) for r in found)
            state.engine = state.engine or str(row.get("engine", ""))
