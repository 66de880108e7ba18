"""Text generation in the inference service: resolve, place, stream (no transport imports)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from services.common.errors import BackendUnavailable, MeshError
from services.inference.llm.catalog import LLMCatalog, RegistryLookup
from services.inference.llm.client import fetch_stats, stream_events
from services.inference.llm.model_dir import LLMSpec
from services.inference.llm.placement import LLMPlacer, LocalLLMWorkers, Placement
from services.inference.llm.requests import GenerationJob
from services.inference.llm.settings import GenerationSettings

log = logging.getLogger("meshserve.llm")

#: How often a preload that is still running says so in the log.
PROGRESS_SECONDS = 5.0


@dataclass(frozen=True)
class Chunk:
    """One step of a generation as the service reports it."""

    text: str
    index: int
    model: str
    device: str
    request_id: str
    created: int
    finish_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: Prompt tokens the engine's prompt cache held (not evaluated again).
    cached_tokens: int = 0
    #: Last chunk only: mean log-probability of the generated tokens (the engine's confidence).
    mean_logprob: float | None = None


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
        #: Every model this service asked a worker to hold, by Triton model name.
        self._specs: dict[str, LLMSpec] = {}

    def spec_of(self, triton_name: str) -> LLMSpec | None:
        """The language model behind a Triton model name this service placed (None if not one):
        the service reports models by their public id, the Triton name stays internal."""
        return self._specs.get(triton_name)

    async def _place(self, spec: LLMSpec) -> Placement:
        self._specs[spec.triton_name] = spec
        return await self.placer.place(spec)

    async def generate(self, job: GenerationJob) -> AsyncIterator[Chunk]:
        """The chunks of one generation; closing the iterator cancels it on the worker."""
        spec = await self.catalog.resolve(job.model)
        placement = await self._place(spec)
        created = int(time.time())
        self.open_streams += 1
        tracking = getattr(self.placer, "track", None)
        counter = tracking(spec, placement) if tracking else contextlib.nullcontext()
        try:
            async with counter:
                async for event in stream_events(placement.client, placement.triton_name, job.body()):
                    if event.get("cancelled"):
                        return
                    usage = event.get("usage") or {}
                    yield Chunk(
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
                    )
        finally:
            self.open_streams -= 1

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
            rows.append({**stats, "model": spec.model_id, "worker_id": placement.worker_id})
        return rows

    async def close(self) -> None:
        """Stops workers this service started."""
        await self.placer.close()
