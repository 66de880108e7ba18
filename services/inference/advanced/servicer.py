"""gRPC face of advanced inference: ``SelectModel``, ``RunBenchmark``, ``PrefetchCache`` and
``GetCacheStats``.

The response cache itself is a stage of the generation pipeline (:mod:`services.inference.llm.pipeline`):
a prefetch runs each prompt through that pipeline, which stores what it produces, so plugins see a
prefetched prompt exactly as they see a live one.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as pb
from meshserve.v1 import registry_pb2 as rpb
from services.common.clients import unary_call
from services.common.errors import InvalidInput, MeshError
from services.common.messages import message_from
from services.inference.advanced import benchmark as bench
from services.inference.advanced.cache import DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, Cache
from services.inference.advanced.routing import Candidate, Priority, choose, reason
from services.inference.generation import sampling_from_proto
from services.inference.llm.catalog import BUNDLED_ID, SERVABLE_FORMATS
from services.inference.llm.memory import size_of
from services.inference.llm.model_dir import LLMSpec
from services.inference.llm.pipeline import GenerationPipeline
from services.inference.llm.requests import GenerationRequest
from services.inference.llm.service import GenerationService
from services.inference.stats import Statistics

log = logging.getLogger("meshserve.inference.advanced")

PRIORITIES = {
    pb.ROUTING_PRIORITY_UNSPECIFIED: Priority.BALANCED,
    pb.ROUTING_PRIORITY_BALANCED: Priority.BALANCED,
    pb.ROUTING_PRIORITY_PERFORMANCE: Priority.PERFORMANCE,
    pb.ROUTING_PRIORITY_COST: Priority.COST,
}
MAX_PREFETCH_PROMPTS = 64


class AdvancedServicer:
    """Routing, benchmarks and the response cache's prefetch and counters."""

    def __init__(
        self, pipeline: GenerationPipeline, stats: Statistics | None = None, benchmark_budget: float = 60.0
    ) -> None:
        self.pipeline = pipeline
        #: Request latencies per Triton model (the worker pool's), for routing by measured speed.
        self.stats = stats
        #: Longest a benchmark measures, in seconds.
        self.benchmark_budget = benchmark_budget

    @property
    def generation(self) -> GenerationService:
        """The engine side of the pipeline."""
        return self.pipeline.service

    @property
    def response_cache(self) -> Cache:
        """The pipeline's response cache."""
        return self.pipeline.cache

    async def _cache_stats(self) -> pb.GetCacheStatsResponse:
        cache = self.response_cache
        return message_from(
            pb.GetCacheStatsResponse,
            cache.counters,
            entries=await cache.entries(),
            capacity=cache.capacity,
        )

    async def GetCacheStats(
        self, request: pb.GetCacheStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCacheStatsResponse:
        """The cache's counters."""
        return await self._cache_stats()

    async def PrefetchCache(
        self, request: pb.PrefetchCacheRequest, context: grpc.aio.ServicerContext
    ) -> pb.PrefetchCacheResponse:
        """Generates each prompt through the whole Generate path and stores the result."""
        prompts = list(request.prompts)
        if not prompts or len(prompts) > MAX_PREFETCH_PROMPTS:
            raise InvalidInput(
                f"prefetch between 1 and {MAX_PREFETCH_PROMPTS} prompts",
                details={"field": "prompts", "provided": len(prompts)},
            )
        for position, prompt in enumerate(prompts):
            if not prompt.strip():
                raise InvalidInput("a prompt is empty", details={"field": f"prompts[{position}]"})
        ttl = request.ttl_seconds or DEFAULT_TTL_SECONDS
        if not 0 < ttl <= MAX_TTL_SECONDS:
            raise InvalidInput(
                f"ttl must be between 1 and {int(MAX_TTL_SECONDS)} seconds",
                details={"field": "config.ttl", "provided": request.ttl_seconds},
            )
        sampling = sampling_from_proto(request.sampling)
        if sampling.temperature is None and sampling.seed is None:
            sampling = replace(sampling, temperature=0.0)  # greedy unless told otherwise
        if not sampling.deterministic:
            raise InvalidInput(
                "only deterministic requests are cached: temperature 0 or a seed",
                details={"field": "parameters.temperature", "provided": sampling.temperature},
                suggestion="set temperature to 0, or give a seed",
            )
        spec = await self.generation.catalog.resolve(request.model.name)
        entries = [
            await self._prefetch_one(GenerationRequest(request.model.name, prompt, sampling=sampling), ttl)
            for prompt in prompts
        ]
        return pb.PrefetchCacheResponse(
            model_name=spec.model_id, entries=entries, stats=await self._cache_stats()
        )

    async def _prefetch_one(self, request: GenerationRequest, ttl: float) -> pb.PrefetchEntry:
        entry = pb.PrefetchEntry(prompt=request.prompt)
        started = time.perf_counter()
        cached, tokens = False, 0
        try:
            chunks = self.pipeline.generate(request, store_ttl=ttl)
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    cached = cached or chunk.cached
                    if chunk.finish_reason:
                        tokens = chunk.completion_tokens
        except MeshError as error:
            entry.error_code, entry.error_message = error.code, error.message
            return entry
        entry.stored = True
        entry.already_cached = cached
        entry.completion_tokens = tokens
        entry.seconds = 0.0 if cached else round(time.perf_counter() - started, 4)
        entry.expires_at = time.time() + ttl
        return entry

    async def SelectModel(
        self, request: pb.SelectModelRequest, context: grpc.aio.ServicerContext
    ) -> pb.SelectModelResponse:
        """Ranks the language models having the capability for the priority."""
        priority = PRIORITIES.get(request.priority, Priority.BALANCED)
        ranked = choose(await self._candidates(), request.capability, priority)
        return pb.SelectModelResponse(
            model_name=ranked[0].name,
            reason=reason(ranked[0], priority, len(ranked)),
            priority=request.priority or pb.ROUTING_PRIORITY_BALANCED,
            candidates=[message_from(pb.ModelCandidate, c, model_name=c.name) for c in ranked],
        )

    async def _candidates(self) -> list[Candidate]:
        """Every language model this service can run: its own, then the registry's (less the names
        that a promoted A/B test now serves with its winner: choosing one would run another model)."""
        service = self.generation
        catalog = service.catalog
        placed = {spec.model_id: spec.triton_name for spec, _ in service.placer.placed()}
        registered = {m.name: m for m in await self._registry_language_models(catalog.registry)}
        rows: list[tuple[str, str, int, str, tuple[str, ...]]] = []
        for model_id, path in sorted(catalog.sources.items()):
            known = registered.pop(model_id, None)
            caps = tuple(known.capabilities) if known is not None and known.capabilities else ()
            source = "builtin" if model_id == BUNDLED_ID else "configured"
            default_caps = ("text-generation", "chat") if source == "builtin" else ("text-generation",)
            rows.append(
                (model_id, source, size_of(path), LLMSpec(model_id, path).triton_name, caps or default_caps)
            )
        for name, model in sorted(registered.items()):
            triton = LLMSpec(name, Path(), revision=model.sha256[:12]).triton_name
            caps = tuple(model.capabilities) or ("text-generation",)
            rows.append((name, "registry", model.size_bytes, triton, caps))
        stats = self.stats
        experiments = self.pipeline.experiments
        candidates = []
        for name, source, size, triton, caps in rows:
            if experiments is not None and experiments.promoted_to(name) not in (None, name):
                continue  # a name that a promoted A/B test hands to its winner, a candidate of its own
            triton = placed.get(name, triton)
            counter = stats.models.get(triton) if stats is not None else None
            measured = counter is not None and bool(counter.recent_ms)
            candidates.append(
                Candidate(
                    name=name,
                    source=source,
                    size_bytes=size,
                    loaded=name in placed,
                    latency_p50_ms=round(counter.percentile(50), 3) if counter and measured else None,
                    requests=counter.requests if counter is not None else 0,
                    capabilities=caps,
                )
            )
        return candidates

    @staticmethod
    async def _registry_language_models(registry: Any) -> list[common.Model]:
        """Servable text-generation models in the registry (GGUF or Hugging Face, with an artifact);
        none (logged) when it cannot be asked."""
        stub = getattr(registry, "stub", None)
        if stub is None:
            return []
        try:
            reply = await unary_call(stub.ListModels, rpb.ListModelsRequest(), timeout=5.0, idempotent=True)
        except MeshError as error:
            log.warning("registry not asked for language models: %s", error.message)
            return []
        return [
            m
            for m in reply.models
            if m.task == common.MODEL_TASK_TEXT_GENERATION and m.format in SERVABLE_FORMATS and m.sha256
        ]

    async def RunBenchmark(
        self, request: pb.RunBenchmarkRequest, context: grpc.aio.ServicerContext
    ) -> pb.RunBenchmarkResponse:
        """Measures every model on every case, sequentially, within the time budget (the service's, or
        less when the call's deadline is nearer); unknown models are reported per model."""
        cases = bench.resolve_cases([bench.Case(c.name, c.prompt) for c in request.cases])
        max_tokens = request.max_tokens or bench.DEFAULT_MAX_TOKENS
        repetitions = request.repetitions or bench.DEFAULT_REPETITIONS
        bench.check_limits(list(request.models), len(cases), max_tokens, repetitions)
        budget = bench.budget_of(self.benchmark_budget, context.time_remaining())
        chat_models = {c.name for c in await self._candidates() if "chat" in c.capabilities}
        started = time.perf_counter()
        deadline = time.monotonic() + budget
        results = [
            await bench.benchmark_model(
                self.generation,  # the engine itself: a benchmark measures the model, not the cache
                model,
                cases,
                max_tokens,
                repetitions,
                chat_models,
                bench.Budget(budget, deadline),
            )
            for model in request.models
        ]
        return pb.RunBenchmarkResponse(
            models=[_model_result(r) for r in results],
            max_tokens=max_tokens,
            repetitions=repetitions,
            seconds=round(time.perf_counter() - started, 4),
        )


def _model_result(result: bench.ModelResult) -> pb.BenchmarkModelResult:
    reply = pb.BenchmarkModelResult(
        model_name=result.asked, resolved_model=result.resolved, device=result.device
    )
    if result.error is not None:
        reply.error_code, reply.error_message = result.error.code, result.error.message
    for case in result.cases:
        reply.cases.append(
            pb.BenchmarkCaseResult(
                name=case.case.name,
                prompt=case.case.prompt,
                runs=len(case.latencies_ms),
                latency_p50_ms=round(bench.median(case.latencies_ms), 3),
                latency_min_ms=round(min(case.latencies_ms, default=0.0), 3),
                latency_max_ms=round(max(case.latencies_ms, default=0.0), 3),
                first_token_p50_ms=round(bench.median(case.first_token_ms), 3),
                tokens_per_second=round(case.tokens_per_second, 3),
                completion_tokens=case.completion_tokens,
                sample_output=case.sample_output,
            )
        )
    return reply
