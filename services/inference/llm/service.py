"""Text generation in the inference service: resolve, place, stream (no transport imports)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.common.errors import (
    BackendUnavailable,
    InferenceFailed,
    InsufficientMemory,
    InvalidInput,
    MeshError,
    ModelNotFound,
)
from services.common.gguf_quant import gguf_type
from services.inference.budget import parse_memory
from services.inference.devices import machine_facts
from services.inference.llm.admission import SequenceAdmission
from services.inference.llm.catalog import LLMCatalog, RegistryLookup
from services.inference.llm.chunks import Chunk, TokenLogprob, UsageTally
from services.inference.llm.client import fetch_stats, stream_events
from services.inference.llm.embeddings import check_inputs, shaped
from services.inference.llm.metrics import SequenceClock
from services.inference.llm.model_dir import LLMSpec
from services.inference.llm.placement import LLMPlacer, LocalLLMWorkers, Placement
from services.inference.llm.requests import GenerationJob, GenerationRequest, build_job
from services.inference.llm.settings import GenerationSettings
from services.inference.priority import current_priority

log = logging.getLogger("meshserve.llm")

#: How often a preload that is still running says so in the log.
PROGRESS_SECONDS = 5.0


@dataclass(frozen=True)
class Embedded:
    """Embeddings of some texts, in their order."""

    vectors: list[list[float]]
    prompt_tokens: int
    model: str
    device: str


class GenerationService:
    """Streams generations from the workers and counts open streams."""

    def __init__(
        self,
        settings: GenerationSettings,
        placer: LLMPlacer | None = None,
        registry: RegistryLookup | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = LLMCatalog(settings, registry)
        self.placer: LLMPlacer = placer or LocalLLMWorkers(settings)
        self.open_streams = 0
        self.admission = SequenceAdmission(settings.max_batch, settings.max_waiting)
        #: Every model this service asked a worker to hold, by Triton model name.
        self._specs: dict[str, LLMSpec] = {}
        self._preload_task: asyncio.Task[None] | None = None

    def spec_of(self, triton_name: str) -> LLMSpec | None:
        """The language model behind a Triton model name this service placed (None if not one):
        the service reports models by their public id, the Triton name stays internal."""
        return self._specs.get(triton_name)

    def job(self, request: GenerationRequest) -> GenerationJob:
        """The validated request, with this service's defaults and limits, and the queue priority of
        the current call's plan (built in the call's context, where its tenant is known)."""
        return build_job(
            request,
            default_max_tokens=self.settings.default_max_tokens,
            max_prompt_chars=self.settings.max_prompt_chars,
            priority=current_priority(),
            aging_seconds=self.settings.priority_aging_seconds,
        )

    async def _place(self, spec: LLMSpec) -> Placement:
        self._specs[spec.triton_name] = spec
        return await self.placer.place(spec)

    async def generate(
        self, job: GenerationJob, tally: UsageTally | None = None
    ) -> AsyncGenerator[Chunk, None]:
        """The chunks of one generation, its ``n`` choices interleaved as they come (each choice is
        a sequence of its own in the worker's continuous batch); closing the iterator cancels them.
        ``tally`` adds up what the engine reports each choice cost, abandoned ones included."""
        spec = await self.catalog.resolve(job.model)
        self.admission.admit(spec.model_id, job.n)
        self.open_streams += 1
        try:
            placement = await self._place(spec)
            created = int(time.time())
            tracking = getattr(self.placer, "track", None)
            counter = tracking(spec, placement) if tracking else contextlib.nullcontext()
            async with counter:
                if job.n == 1:
                    # Closed here, not left to the garbage collector: a sequence left early must
                    # report its usage before whoever metered this generation reads the tally.
                    async with contextlib.aclosing(
                        self._choice(spec, placement, job, 0, created, tally)
                    ) as one:
                        async for chunk in one:
                            yield chunk
                    return
                choices = [self._choice(spec, placement, job, i, created, tally) for i in range(job.n)]
                async for chunk in _interleaved(choices):
                    yield chunk
        finally:
            self.open_streams -= 1
            self.admission.release(spec.model_id, job.n)

    async def _choice(
        self,
        spec: LLMSpec,
        placement: Placement,
        job: GenerationJob,
        choice: int,
        created: int,
        tally: UsageTally | None = None,
    ) -> AsyncGenerator[Chunk, None]:
        clock = SequenceClock(spec.model_id, job.priority)
        on_end = tally.add if tally is not None else None
        events = stream_events(placement.client, placement.triton_name, job.body(choice), on_end)
        try:
            async for event in events:
                if event.get("cancelled"):
                    return
                chunk = self._chunk(spec, placement, job, choice, created, event)
                if chunk.text:
                    clock.text()
                if chunk.finish_reason:
                    clock.finished(chunk.prompt_tokens, chunk.completion_tokens, chunk.queue_seconds)
                yield chunk
        finally:
            await events.aclose()  # its last event's usage reaches the tally now
            clock.close()

    @staticmethod
    def _chunk(
        spec: LLMSpec, placement: Placement, job: GenerationJob, choice: int, created: int, event: dict
    ) -> Chunk:
        usage = event.get("usage") or {}
        return Chunk(
            text=str(event.get("text", "")),
            index=int(event.get("index", 0)),
            model=spec.model_id,
            device=placement.device,
            request_id=job.request_id,
            created=created,
            finish_reason=str(event.get("finish_reason", "")),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            cached_tokens=int(usage.get("cached_tokens", 0)),
            mean_logprob=event.get("mean_logprob"),
            choice=choice,
            logprobs=tuple(TokenLogprob.from_event(t) for t in event.get("logprobs", ())),
            prompt_logprobs=tuple(TokenLogprob.from_event(t) for t in event.get("prompt_logprobs", ())),
            queue_seconds=float(event.get("queue_seconds", 0.0)),
        )

    async def language_model(self, name: str) -> LLMSpec | None:
        """The language model served under ``name``, or None when it is not one (a tensor model, an
        unknown name: the caller's own lookup says which)."""
        try:
            return await self.catalog.resolve(name)
        except ModelNotFound:
            return None

    async def load(
        self, spec: LLMSpec, device: str = "auto", quantization: str = "", max_memory: str = ""
    ) -> LLMSpec:
        """Places a language model now (004's load) and returns what serves it.

        ``cuda`` without CUDA is refused, never run on the CPU instead. ``quantization`` (``int8``,
        ``int4``, ``fp16`` …) serves a llama.cpp re-quantized variant of a GGUF model under its id
        from now on (``none`` goes back to the stored weights); ``max_memory`` (``"2GB"``,
        ``"80%"`` of the machine's memory) refuses a model that would need more.
        """
        if device.startswith("cuda") and not (await asyncio.to_thread(machine_facts)).cuda_available:
            raise InvalidInput(
                "backend cuda was asked for, but this machine has no CUDA device",
                details={"field": "backend", "provided": device},
                suggestion="use backend cpu or auto",
            )
        if quantization:
            serving = spec  # the variant in force, or the stored weights
            self.catalog.forget_variant(spec.model_id)
            spec = await self.catalog.resolve(spec.model_id)  # the stored weights
            if quantization.strip().lower() not in ("none", "original"):
                spec = await self.catalog.quantized(spec, gguf_type(quantization), self._variant_dir())
            if serving.triton_name != spec.triton_name:  # no request reaches it any more
                await self.placer.unload(serving)
        if max_memory:
            need = self.placer.need_bytes(spec)
            limit = parse_memory(max_memory, "max_memory")
            if need > limit:
                raise InsufficientMemory(
                    f"model {spec.model_id!r} needs {need / 2**20:.0f} MB, more than max_memory {max_memory}",
                    details={"field": "max_memory", "required_bytes": need, "max_memory_bytes": limit},
                    suggestion="raise max_memory, or load it with a smaller quantization (int4)",
                )
        await self._place(spec)
        return spec

    def _variant_dir(self) -> Path:
        """Where quantized variants are written."""
        root = getattr(self.placer, "root", None)
        return (root if root is not None else self.settings.work_dir.resolve()) / "llm-variants"

    async def unload(self, spec: LLMSpec) -> int:
        """Unloads a language model from its workers, whatever weights of it are placed (stored, or
        a quantized variant); the next request loads it again. Returns the resident bytes freed."""
        placed = {s.triton_name: s for s, _ in self.placer.placed() if s.model_id == spec.model_id}
        placed.setdefault(spec.triton_name, spec)
        return sum([await self.placer.unload(each) for each in placed.values()])

    async def embed(self, model: str, inputs: list[str] | list[list[int]], dimensions: int = 0) -> Embedded:
        """Unit vectors of ``inputs`` from a language model's worker (placing it on first use)."""
        check_inputs(inputs, self.settings.max_prompt_chars)
        spec, placement, event = await self.ask(model, {"op": "embed", "inputs": inputs}, "embeddings")
        return Embedded(
            vectors=shaped(event["embeddings"], dimensions),
            prompt_tokens=int(event["usage"]["prompt_tokens"]),
            model=spec.model_id,
            device=placement.device,
        )

    async def prompt_text(self, model: str, ids: Sequence[int]) -> str:
        """The text of a prompt given as token ids, in the model's own vocabulary (INVALID_INPUT
        naming ``prompt`` for an id the model does not have)."""
        _, _, event = await self.ask(model, {"op": "detokenize", "ids": list(ids)}, "detokenized")
        return str(event["detokenized"])

    async def ask(self, model: str, body: dict[str, Any], answer: str) -> tuple[LLMSpec, Placement, dict]:
        """One request to a language model's worker (placing it on first use), and the reply that
        holds ``answer``."""
        spec = await self.catalog.resolve(model)
        placement = await self._place(spec)
        events = stream_events(placement.client, placement.triton_name, body)
        async with contextlib.aclosing(events):
            async for event in events:
                if answer in event:
                    return spec, placement, event
        raise InferenceFailed(f"the worker sent no {answer}")

    async def preload(self, name: str) -> None:
        """Places a model before anyone asks for it, logging progress; never raises.

        Requests arriving meanwhile wait for this same load (the placer holds its lock for it) rather
        than starting a second one. A failed preload is only logged: the next request tries again.
        """
        started = time.perf_counter()
        while True:
            try:
                spec = await self.catalog.resolve(name)
                break
            except BackendUnavailable as error:
                # A registered model: the registry starts alongside this service and may not serve yet.
                if time.perf_counter() - started > self.settings.load_timeout_seconds:
                    log.warning("language model preload skipped: %s", error.message, extra={"model": name})
                    return
                await asyncio.sleep(1.0)
            except MeshError as error:
                log.warning("language model preload skipped: %s", error.message, extra={"model": name})
                return
        log.info("preloading language model", extra={"model": spec.model_id, "source": str(spec.source)})
        loading = asyncio.ensure_future(self._place(spec))
        try:
            while not (await asyncio.wait({loading}, timeout=PROGRESS_SECONDS))[0]:
                log.info(
                    "still loading language model",
                    extra={"model": spec.model_id, "seconds": round(time.perf_counter() - started, 1)},
                )
            placement = loading.result()
        except MeshError as error:
            log.warning(
                "language model preload failed (it loads on first use): %s",
                error.message,
                extra={"model": spec.model_id, "reason": error.code},
            )
            return
        except Exception:  # anything else is a bug, but it must not take the service down
            log.exception("language model preload failed", extra={"model": spec.model_id})
            return
        finally:
            loading.cancel()  # a no-op once done; stops the load when the service shuts down
        log.info(
            "language model preloaded",
            extra={
                "model": spec.model_id,
                "worker": placement.worker_id,
                "device": placement.device,
                "seconds": round(time.perf_counter() - started, 1),
            },
        )

    async def stats(self, model: str = "") -> list[dict[str, Any]]:
        """Engine counters of every placed language model (or one)."""
        rows = []
        for spec, placement in self.placer.placed():
            if model and model not in (spec.model_id, placement.triton_name):
                continue
            stats = await fetch_stats(placement.client, placement.triton_name)
            rows.append(
                {
                    **stats,
                    "model": spec.model_id,
                    "triton_name": placement.triton_name,
                    "worker_id": placement.worker_id,
                }
            )
        return rows

    def start_preload(self) -> None:
        """Starts loading the preload model in the background; the caller does not wait for it."""
        if self.settings.preload and self._preload_task is None:
            self._preload_task = asyncio.create_task(self.preload(self.settings.preload), name="llm-preload")

    async def stop_preload(self) -> None:
        """Abandons a preload still running (at shutdown)."""
        task, self._preload_task = self._preload_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        """Stops workers this service started."""
        await self.placer.close()


_END = object()


async def _interleaved(streams: Sequence[AsyncIterator[Chunk]]) -> AsyncIterator[Chunk]:
    """The items of several streams as each produces them; the first failure ends them all."""
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def pump(stream: AsyncIterator[Chunk]) -> None:
        try:
            async with contextlib.aclosing(stream):  # type: ignore[type-var]
                async for item in stream:
                    await queue.put(item)
        except Exception as error:
            await queue.put(error)
        finally:
            await queue.put(_END)

    tasks = [asyncio.create_task(pump(s)) for s in streams]
    try:
        running = len(tasks)
        while running:
            item = await queue.get()
            if item is _END:
                running -= 1
            elif isinstance(item, Exception):
                raise item
            else:
                yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
