"""Text generation (``InferenceService.Generate``): a mixin of the inference servicer.

Kept apart from tensor prediction so each evolves on its own; the servicer composes both. The
work happens in :mod:`services.inference.llm.service`; this module only translates messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc

from meshserve.v1 import inference_pb2 as pb
from meshserve.v1 import inference_pb2_grpc as pb_grpc
from services.inference.llm.model_dir import LLMSpec
from services.inference.llm.placement import PoolLLMPlacer
from services.inference.llm.requests import build_job
from services.inference.llm.service import GenerationService
from services.inference.llm.settings import GenerationSettings

log = logging.getLogger("meshserve.llm")

_FINISH = {"stop": pb.FINISH_REASON_STOP, "length": pb.FINISH_REASON_LENGTH}


class GenerationMixin(pb_grpc.InferenceServiceServicer):
    """Generate, streamed chunk by chunk, and the generation statistics."""

    _generation_service: GenerationService | None = None
    _preload_task: asyncio.Task[None] | None = None

    @property
    def generation(self) -> GenerationService:
        """The generation service, built on first use (it uses the worker pool when there is one)."""
        if self._generation_service is None:
            settings = GenerationSettings()
            self._generation_service = GenerationService(
                settings, _placer_of(self, settings), _registry_of(self)
            )
        return self._generation_service

    def language_model(self, triton_name: str) -> LLMSpec | None:
        """The language model served under a Triton model name, if generation placed it."""
        service = self._generation_service
        return service.spec_of(triton_name) if service is not None else None

    def start_preload(self) -> None:
        """Starts loading the preload model in the background; the gRPC server does not wait for it."""
        service = self.generation
        name = service.settings.preload
        if not name:
            return
        if getattr(getattr(self, "pool", None), "target", 1) == 0:
            log.info("language model preload skipped: the worker pool starts with no workers")
            return
        self._preload_task = asyncio.create_task(service.preload(name), name="llm-preload")

    async def stop_preload(self) -> None:
        """Abandons a preload still running (at shutdown)."""
        task, self._preload_task = self._preload_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def Generate(
        self, request: pb.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.GenerateResponse]:
        """Streams a generation; a cancelled call cancels the sequence on the worker."""
        service = self.generation
        sampling = request.sampling
        max_tokens: int | None = None
        if sampling.HasField("max_completion_tokens"):
            max_tokens = sampling.max_completion_tokens
        elif sampling.max_tokens:
            max_tokens = sampling.max_tokens
        job = build_job(
            model=request.model.name,
            prompt=request.prompt,
            messages=[(m.role, m.content) for m in request.messages],
            sampling={
                "max_tokens": max_tokens,
                "temperature": sampling.temperature if sampling.HasField("temperature") else None,
                "top_p": sampling.top_p if sampling.HasField("top_p") else None,
                "top_k": sampling.top_k,
                "stop": list(sampling.stop),
                "frequency_penalty": sampling.frequency_penalty,
                "presence_penalty": sampling.presence_penalty,
                "logit_bias": dict(sampling.logit_bias),
                "seed": sampling.seed if sampling.HasField("seed") else None,
            },
            default_max_tokens=service.settings.default_max_tokens,
            max_prompt_chars=service.settings.max_prompt_chars,
            request_id=request.request_id,
        )
        async for chunk in service.generate(job):
            reply = pb.GenerateResponse(
                text=chunk.text,
                index=chunk.index,
                model_name=chunk.model,
                device=chunk.device,
                request_id=chunk.request_id,
                created=chunk.created,
            )
            if chunk.finish_reason:
                reply.finish_reason = _FINISH.get(chunk.finish_reason, pb.FINISH_REASON_STOP)
                reply.usage.prompt_tokens = chunk.prompt_tokens
                reply.usage.completion_tokens = chunk.completion_tokens
                reply.usage.cached_tokens = chunk.cached_tokens
                if chunk.mean_logprob is not None:
                    reply.mean_logprob = chunk.mean_logprob
            yield reply

    async def GetGenerationStats(
        self, request: pb.GetGenerationStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetGenerationStatsResponse:
        """Live sequences per language model, as the engines on the workers count them."""
        service = self.generation
        rows = await service.stats(request.model_name)
        return pb.GetGenerationStatsResponse(
            models=[
                pb.GenerationStats(
                    model_name=r["model"],
                    worker_id=r["worker_id"],
                    active_sequences=r["active"],
                    waiting_sequences=r["waiting"],
                    slots=r["slots"],
                    completed=r["completed"],
                    tokens_generated=r["tokens_generated"],
                    device=r["device"],
                    context_length=r["context_length"],
                    engine=r.get("engine", ""),
                    engine_reason=r.get("engine_reason", ""),
                    threads=r.get("threads", 0),
                )
                for r in rows
            ],
            open_streams=service.open_streams,
        )


def _placer_of(servicer: Any, settings: GenerationSettings) -> Any:
    """The worker pool's placer when the servicer has a pool, else None (generation's own worker)."""
    pool = getattr(servicer, "pool", None)
    if pool is None or not hasattr(pool, "install_model_dir"):
        return None
    return PoolLLMPlacer(pool, settings)


def _registry_of(servicer: Any) -> Any:
    """The registry catalog the predictor uses (registered language models come from there), if any."""
    return getattr(getattr(servicer, "predictor", None), "catalog", None)
