"""One generation pipeline: every text generation, whoever asks for it, goes through :meth:`generate`.

The stages, in order, composed here rather than through class inheritance:

0. the **allowance**: a signed-in tenant over its monthly token quota or spending limit is refused
   (:mod:`services.inference.metering.allowance`); then an **A/B experiment** covering the model name sends it to the caller's arm
   (:mod:`services.inference.experiments.router`), and records how it went;
1. **preprocessing plugins** rewrite (or refuse) the request, as they were loaded when it started;
2. **validation** (:func:`~services.inference.llm.requests.build_job`) before any worker sees it;
3. the **response cache** answers a deterministic request that a prefetch stored, else
4. the **engine** generates it (:class:`~services.inference.llm.service.GenerationService`: placement
   and continuous batching on a Triton worker, ``n`` choices as ``n`` sequences); with ``best_of``
   the most likely of its candidates are kept, and with ``echo`` each choice starts with the prompt
   (:mod:`services.inference.llm.candidates`);
5. with **tools**, each choice's reply is held until it ends and becomes a tool call when it is one
   (:mod:`services.inference.llm.tools`);
6. **postprocessing plugins** rewrite each choice's text as it streams;
7. **webhooks** hear ``inference.completed`` as each choice finishes;
8. **metering** records what the engine generated, once, however the generation ended
   (:mod:`services.inference.metering.meter`).

The gRPC ``Generate``, job items, cache prefetches and the 003 routes all call :meth:`generate`, so
none of them can skip a stage. No transport imports.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, replace
from typing import Any

from services.common.context import caller_var, current_request_id
from services.common.metering import usage_record
from services.inference.advanced.cache import Cache, CachedCompletion, cache_key
from services.inference.experiments.router import ExperimentRouter
from services.inference.jobs.webhooks import WebhookHub
from services.inference.llm.candidates import echoed, most_likely
from services.inference.llm.chunks import Chunk, TokenLogprob, UsageTally
from services.inference.llm.requests import GenerationJob, GenerationRequest
from services.inference.llm.service import GenerationService
from services.inference.llm.tools import ToolUse
from services.inference.metering.allowance import Allowance, AllowanceGate
from services.inference.plugins.manager import PluginManager
from services.inference.plugins.pipeline import OutputStream


@dataclass(eq=False)
class GenerationPipeline:
    """Plugins, the response cache, the engine and webhook events around one generation."""

    service: GenerationService
    plugins: PluginManager
    cache: Cache
    webhooks: WebhookHub | None = None
    experiments: ExperimentRouter | None = None
    allowances: AllowanceGate | None = None

    def job(self, request: GenerationRequest) -> GenerationJob:
        """The validated request (raises InvalidInput naming the field at fault)."""
        return self.service.job(request)

    async def generate(
        self,
        request: GenerationRequest,
        *,
        store_ttl: float | None = None,
        source: str = "generate",
        on_allowance: Callable[[Allowance], None] | None = None,
    ) -> AsyncGenerator[Chunk, None]:
        """The chunks of one generation; closing the iterator cancels it on the worker.

        ``store_ttl`` (a prefetch) stores the result in the response cache for that many seconds;
        ``source`` names the caller in ``inference.completed`` events (``generate``, ``job``);
        ``on_allowance`` hears the tenant's allowance once it is admitted (before the first chunk).
        """
        if self.allowances is not None:
            allowance = await self.allowances.admit()
            if allowance is not None and on_allowance is not None:
                on_allowance(allowance)
        routed = None
        if self.experiments is not None and store_ttl is None:  # a prefetch stores what it names
            request_id = request.request_id or current_request_id()
            routed = self.experiments.route(request.model, caller_var.get() or request.user, request_id)
            if routed is not None:
                request = replace(request, model=routed.model, request_id=request_id)
        stages = self.plugins.pipeline()
        if request.prompt_ids and not request.prompt and (stages.pre or request.echo):
            # plugins read, and echo repeats, the text: the ids still go to the engine as given
            text = await self.service.prompt_text(request.model, request.prompt_ids)
            request = replace(request, prompt=text)
        if stages.pre:
            request = request.with_text(stages.preprocess(request.text()))
        job = self.job(request)
        tally = UsageTally()
        chunks = self._cached_or_generated(job, store_ttl, tally)
        if job.keep:
            chunks = most_likely(chunks, job.keep)
        if job.echo:
            chunks = echoed(chunks, job.prompt)
        returned = job.keep or job.n
        if routed is not None and self.experiments is not None:
            chunks = self.experiments.observed(chunks, routed, returned)
        if job.tools.active:
            chunks = _tool_calls(chunks, job.tools)
        if stages.post:
            chunks = _postprocessed(chunks, stages.output)
        hub = self.webhooks
        if hub is not None and hub.subscribed("inference.completed"):
            chunks = _announced(chunks, hub, source)
        started = time.perf_counter()
        finished, failed = 0, False
        try:
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    finished += bool(chunk.finish_reason)
                    yield chunk
        except Exception:
            failed = True
            raise
        finally:  # a caller may close the stream once it has every choice: that is still "ok"
            outcome = "error" if failed else ("ok" if finished >= returned else "cancelled")
            self._meter(job, tally, started, outcome, source)

    def _meter(
        self, job: GenerationJob, tally: UsageTally, started: float, outcome: str, source: str
    ) -> None:
        """Records what the generation cost (after its stream closed, so the tally is whole)."""
        meter = self.allowances.meter if self.allowances is not None else None
        if meter is None:
            return
        meter.record(
            usage_record(
                request_id=job.request_id or current_request_id(),
                model=job.model,
                surface="job" if source == "job" else "",
                prompt_tokens=tally.prompt_tokens,
                completion_tokens=tally.completion_tokens,
                started=started,
                outcome=outcome,
            )
        )

    async def _cached_or_generated(
        self, job: GenerationJob, store_ttl: float | None, tally: UsageTally
    ) -> AsyncGenerator[Chunk, None]:
        """A stored answer when a prefetch stored this request; otherwise the engine's."""
        cache = self.cache
        params = job.params
        if not (params.greedy or params.seed is not None):
            if store_ttl is None:
                cache.counters.bypassed += 1
            async with contextlib.aclosing(self.service.generate(job, tally)) as generated:
                async for chunk in generated:
                    yield chunk
            return
        spec = await self.service.catalog.resolve(job.model)
        key = cache_key(spec.model_id, spec.revision, job.key())
        entry = await cache.get(key)
        if entry is not None:
            if store_ttl is None:
                cache.counters.hits += 1
            else:
                await cache.renew(key, entry, time.time() + store_ttl)  # a repeated prefetch renews it
            for chunk in _replayed(entry, job.request_id or current_request_id()):
                if chunk.finish_reason:  # the tenant gets the stored tokens: they are billed
                    tally.add(
                        {"prompt_tokens": chunk.prompt_tokens, "completion_tokens": chunk.completion_tokens}
                    )
                yield chunk
            return
        if store_ttl is None:
            cache.counters.misses += 1
        produced: list[Chunk] = []
        async with contextlib.aclosing(self.service.generate(job, tally)) as generated:
            async for chunk in generated:
                produced.append(chunk)
                yield chunk
        finished = sum(1 for c in produced if c.finish_reason)
        if store_ttl is not None and finished == job.n:
            await cache.put(key, CachedCompletion(chunks=produced, expires_at=time.time() + store_ttl))


def _replayed(entry: CachedCompletion, request_id: str) -> list[Chunk]:
    """A stored generation as this request's chunks: nothing of its prompt was evaluated."""
    created = int(time.time())
    return [
        replace(
            chunk,
            request_id=request_id,
            created=created,
            cached=True,
            cached_tokens=chunk.prompt_tokens if chunk.finish_reason else 0,
        )
        for chunk in entry.chunks
    ]


async def _tool_calls(chunks: AsyncGenerator[Chunk, None], tools: ToolUse) -> AsyncGenerator[Chunk, None]:
    """Each choice's reply whole, at its end: a tool call when it is one, else its text."""
    held: dict[int, list[Chunk]] = {}
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            held.setdefault(chunk.choice, []).append(chunk)
            if not chunk.finish_reason:
                continue
            parts = held.pop(chunk.choice)
            text = "".join(c.text for c in parts)
            logprobs = tuple(t for c in parts for t in c.logprobs)
            call = tools.call_in(text) if chunk.finish_reason == "stop" else None
            if call is None:
                yield replace(chunk, text=text, logprobs=logprobs, index=0)
            else:
                yield replace(
                    chunk, text="", logprobs=logprobs, index=0, finish_reason="tool_calls", tool_calls=(call,)
                )


async def _postprocessed(chunks: AsyncGenerator[Chunk, None], output: Any) -> AsyncGenerator[Chunk, None]:
    """Each choice's text through the postprocessing stages (a stream per choice). Text a stage holds
    back is sent with a later chunk of its choice, and so are the logprobs of its tokens."""
    streams: dict[int, OutputStream] = {}
    held: dict[int, tuple[TokenLogprob, ...]] = {}
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            stream = streams.get(chunk.choice)
            if stream is None:
                stream = streams[chunk.choice] = output()
            text = stream.feed(chunk.text) if chunk.text else ""
            if chunk.finish_reason:
                text += stream.finish()
            elif chunk.text and not text:
                held[chunk.choice] = held.get(chunk.choice, ()) + chunk.logprobs
                continue
            logprobs = held.pop(chunk.choice, ()) + chunk.logprobs
            yield replace(chunk, text=text, logprobs=logprobs)


async def _announced(
    chunks: AsyncGenerator[Chunk, None], hub: WebhookHub, source: str
) -> AsyncGenerator[Chunk, None]:
    """The chunks unchanged; ``inference.completed`` as each choice's last chunk goes out.

    The event is sent before that chunk is yielded: a caller that has what it wanted closes the
    stream, and a generator closed at that ``yield`` would never get past it.
    """
    started = time.perf_counter()
    parts: dict[int, list[str]] = {}
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            parts.setdefault(chunk.choice, []).append(chunk.text)
            if chunk.finish_reason:
                hub.emit(
                    "inference.completed",
                    {
                        "source": source,
                        "request_id": chunk.request_id,
                        "model_id": chunk.model,
                        "choice": chunk.choice,
                        "response": "".join(parts[chunk.choice]),
                        "prompt_tokens": chunk.prompt_tokens,
                        "completion_tokens": chunk.completion_tokens,
                        "finish_reason": chunk.finish_reason,
                        "processing_time": round(time.perf_counter() - started, 4),
                    },
                )
            yield chunk
