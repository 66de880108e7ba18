"""gRPC face of advanced inference: ``SelectModel``, ``RunBenchmark``, ``PrefetchCache``,
``GetCacheStats``, and ``Generate`` answered from the response cache when a prefetch stored it.

A mixin of the inference servicer placed after the plugins mixin and before the generation mixin:
preprocessing plugins have rewritten the request before the cache looks it up (so the key is what
the model would see), and postprocessing plugins rewrite cached text like generated text.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import grpc

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as pb
from meshserve.v1 import inference_pb2_grpc as pb_grpc
from meshserve.v1 import registry_pb2 as rpb
from services.common.clients import unary_call
from services.common.context import current_request_id
from services.common.errors import InvalidInput, MeshError
from services.inference.advanced import benchmark as bench
from services.inference.advanced.cache import (
    DEFAULT_TTL_SECONDS,
    MAX_TTL_SECONDS,
    CachedCompletion,
    ResponseCache,
    cache_key,
)
from services.inference.advanced.routing import Candidate, Priority, choose, reason
from services.inference.llm.catalog import BUNDLED_ID, SERVABLE_FORMATS
from services.inference.llm.model_dir import LLMSpec

log = logging.getLogger("meshserve.inference.advanced")

#: Set while a prefetch runs its generations: their TTL; the cache then stores what they produce.
_PREFETCH_TTL: ContextVar[float | None] = ContextVar("prefetch_ttl", default=None)

PRIORITIES = {
    pb.ROUTING_PRIORITY_UNSPECIFIED: Priority.BALANCED,
    pb.ROUTING_PRIORITY_BALANCED: Priority.BALANCED,
    pb.ROUTING_PRIORITY_PERFORMANCE: Priority.PERFORMANCE,
    pb.ROUTING_PRIORITY_COST: Priority.COST,
}
MAX_PREFETCH_PROMPTS = 64


def deterministic(request: pb.GenerateRequest) -> bool:
    """Greedy or seeded: the output is a function of the request."""
    s = request.sampling
    return (s.HasField("temperature") and s.temperature == 0) or s.HasField("seed")


def _size_of(path: Path) -> int:
    """Bytes of a weights file, or of every file under a model directory."""
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0


class AdvancedMixin(pb_grpc.InferenceServiceServicer):
    """Routing, benchmarks and the response cache over the generation service."""

    _response_cache: ResponseCache | None = None

    @property
    def response_cache(self) -> ResponseCache:
        """The cache, created on first use."""
        if self._response_cache is None:
            self._response_cache = ResponseCache()
        return self._response_cache

    async def _key(self, request: pb.GenerateRequest) -> str:
        spec = await self.generation.catalog.resolve(request.model.name)  # type: ignore[attr-defined]
        stripped = pb.GenerateRequest()
        stripped.CopyFrom(request)
        stripped.ClearField("request_id")
        stripped.ClearField("model")
        return cache_key(spec.model_id, spec.revision, stripped.SerializeToString(deterministic=True))

    async def Generate(
        self, request: pb.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.GenerateResponse]:
        """A cached answer when a prefetch stored this request; otherwise the generation itself."""
        cache = self.response_cache
        prefetch_ttl = _PREFETCH_TTL.get()
        upstream = super().Generate(request, context)  # type: ignore[misc]
        if not deterministic(request):
            if prefetch_ttl is None:
                cache.counters.bypassed += 1
            async with contextlib.aclosing(upstream):
                async for reply in upstream:
                    yield reply
            return
        key = await self._key(request)
        entry = cache.get(key)
        if entry is not None:
            await upstream.aclose()
            if prefetch_ttl is None:
                cache.counters.hits += 1
            else:
                entry.expires_at = time.time() + prefetch_ttl  # a repeated prefetch renews the entry
            for reply in self._replay(entry, request.request_id or current_request_id()):
                yield reply
            return
        if prefetch_ttl is None:
            cache.counters.misses += 1
        pieces: list[str] = []
        last: pb.GenerateResponse | None = None
        async with contextlib.aclosing(upstream):
            async for reply in upstream:
                pieces.append(reply.text)
                last = reply
                yield reply
        if prefetch_ttl is not None and last is not None and last.finish_reason:
            cache.put(
                key,
                CachedCompletion(
                    pieces=pieces,
                    finish_reason=last.finish_reason,
                    prompt_tokens=last.usage.prompt_tokens,
                    completion_tokens=last.usage.completion_tokens,
                    model_name=last.model_name,
                    device=last.device,
                    expires_at=time.time() + prefetch_ttl,
                ),
            )

    @staticmethod
    def _replay(entry: CachedCompletion, request_id: str) -> list[pb.GenerateResponse]:
        created = int(time.time())
        replies = [
            pb.GenerateResponse(
                text=text,
                index=i,
                model_name=entry.model_name,
                device=entry.device,
                request_id=request_id,
                created=created,
                cached=True,
            )
            for i, text in enumerate(entry.pieces)
        ]
        last = replies[-1]
        last.finish_reason = entry.finish_reason  # type: ignore[assignment]
        last.usage.prompt_tokens = entry.prompt_tokens
        last.usage.completion_tokens = entry.completion_tokens
        last.usage.cached_tokens = entry.prompt_tokens  # nothing of the prompt was evaluated
        return replies

    def _cache_stats(self) -> pb.GetCacheStatsResponse:
        cache = self.response_cache
        counters = cache.counters
        reply = pb.GetCacheStatsResponse(
            entries=cache.entries(),
            capacity=cache.capacity,
            hits=counters.hits,
            misses=counters.misses,
            bypassed=counters.bypassed,
            stored=counters.stored,
            evicted=counters.evicted,
        )
        if counters.hit_rate is not None:
            reply.hit_rate = counters.hit_rate
        return reply

    async def GetCacheStats(
        self, request: pb.GetCacheStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCacheStatsResponse:
        """The cache's counters."""
        return self._cache_stats()

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
        sampling = pb.SamplingParams()
        sampling.CopyFrom(request.sampling)
        if not sampling.HasField("temperature") and not sampling.HasField("seed"):
            sampling.temperature = 0.0  # greedy unless told otherwise
        probe = pb.GenerateRequest(model=request.model, sampling=sampling)
        if not deterministic(probe):
            raise InvalidInput(
                "only deterministic requests are cached: temperature 0 or a seed",
                details={"field": "parameters.temperature", "provided": sampling.temperature},
                suggestion="set temperature to 0, or give a seed",
            )
        spec = await self.generation.catalog.resolve(request.model.name)  # type: ignore[attr-defined]
        entries = []
        token = _PREFETCH_TTL.set(ttl)
        try:
            for prompt in prompts:
                entries.append(await self._prefetch_one(request.model, prompt, sampling, ttl, context))
        finally:
            _PREFETCH_TTL.reset(token)
        return pb.PrefetchCacheResponse(model_name=spec.model_id, entries=entries, stats=self._cache_stats())

    async def _prefetch_one(
        self,
        model: common.ModelRef,
        prompt: str,
        sampling: pb.SamplingParams,
        ttl: float,
        context: grpc.aio.ServicerContext,
    ) -> pb.PrefetchEntry:
        entry = pb.PrefetchEntry(prompt=prompt)
        started = time.perf_counter()
        cached, tokens = False, 0
        try:
            replies = self.Generate(
                pb.GenerateRequest(model=model, prompt=prompt, sampling=sampling), context
            )
            async with contextlib.aclosing(replies):  # type: ignore[type-var]
                async for reply in replies:
                    cached = cached or reply.cached
                    if reply.finish_reason:
                        tokens = reply.usage.completion_tokens
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
            candidates=[
                pb.ModelCandidate(
                    model_name=c.name,
                    source=c.source,
                    size_bytes=c.size_bytes,
                    loaded=c.loaded,
                    latency_p50_ms=c.latency_p50_ms,
                    requests=c.requests,
                    capabilities=list(c.capabilities),
                )
                for c in ranked
            ],
        )

    async def _candidates(self) -> list[Candidate]:
        """Every language model this service can run: its own, then the registry's."""
        service = self.generation  # type: ignore[attr-defined]
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
                (model_id, source, _size_of(path), LLMSpec(model_id, path).triton_name, caps or default_caps)
            )
        for name, model in sorted(registered.items()):
            triton = LLMSpec(name, Path(), revision=model.sha256[:12]).triton_name
            caps = tuple(model.capabilities) or ("text-generation",)
            rows.append((name, "registry", model.size_bytes, triton, caps))
        stats = getattr(getattr(self, "pool", None), "stats", None)
        candidates = []
        for name, source, size, triton, caps in rows:
            triton = placed.get(name, triton)
            counter = stats.models.get(triton) if stats is not None else None
            measured = counter is not None and bool(counter.recent_ms)
            candidates.append(
                Candidate(
                    name=name,
                    source=source,
                    size_bytes=size,
                    loaded=name in placed,
                    latency_p50_ms=round(counter.percentile(50), 3) if measured else None,
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
        """Measures every model on every case, sequentially; unknown models are reported per model."""
        cases = bench.resolve_cases([bench.Case(c.name, c.prompt) for c in request.cases])
        max_tokens = request.max_tokens or bench.DEFAULT_MAX_TOKENS
        repetitions = request.repetitions or bench.DEFAULT_REPETITIONS
        bench.check_limits(len(request.models), len(cases), max_tokens, repetitions)
        chat_models = {c.name for c in await self._candidates() if "chat" in c.capabilities}
        started = time.perf_counter()
        results = [
            await bench.benchmark_model(
                self.generation,  # type: ignore[attr-defined]
                model,
                cases,
                max_tokens,
                repetitions,
                chat_models,
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
