"""Where a language model runs: a Triton worker that has its decoupled model loaded.

In the service, :class:`PoolLLMPlacer` installs the decoupled model directory through the worker
pool and asks it for the least-loaded worker holding it. Without a pool (a bare servicer, tools),
:class:`LocalLLMWorkers` starts one ``tritonserver`` of its own on first use, behind the same calls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tritonclient.grpc.aio import InferenceServerClient
from tritonclient.utils import InferenceServerException

from services.common.errors import BackendUnavailable, ModelLoadFailed
from services.inference.llm.client import fetch_stats
from services.inference.llm.memory import estimate_bytes
from services.inference.llm.model_dir import LLMSpec, write_model_directory

if TYPE_CHECKING:
    from services.inference.worker import TritonWorker
from services.inference.llm.settings import GenerationSettings

log = logging.getLogger("meshserve.llm")


@dataclass(frozen=True)
class Placement:
    """A worker holding a model, and how to reach it."""

    worker_id: str
    triton_name: str
    client: InferenceServerClient
    device: str


class LLMPlacer(Protocol):
    """Finds (loading on demand) a worker for a language model."""

    async def place(self, spec: LLMSpec) -> Placement:
        """A worker holding the model."""
        ...

    def placed(self) -> list[tuple[LLMSpec, Placement]]:
        """Models loaded now."""
        ...

    async def unload(self, spec: LLMSpec) -> int:
        """Unloads a model (the next request loads it again); the resident bytes it held."""
        ...

    def need_bytes(self, spec: LLMSpec) -> int:
        """Resident bytes one instance of the model holds: measured once it was loaded, else estimated."""
        ...

    async def close(self) -> None:
        """Stops what this placer started."""
        ...


class LocalLLMWorkers:
    """One tritonserver of generation's own, started and loaded on demand."""

    def __init__(self, settings: GenerationSettings) -> None:
        self.settings = settings
        self._worker: TritonWorker | None = None
        self._client: InferenceServerClient | None = None
        self._loaded: dict[str, tuple[LLMSpec, Placement]] = {}
        self._lock = asyncio.Lock()

    async def place(self, spec: LLMSpec) -> Placement:
        """The worker with ``spec`` loaded; the first call starts Triton and loads (tens of seconds)."""
        found = self._loaded.get(spec.triton_name)
        if found is not None:
            return found[1]
        async with self._lock:
            found = self._loaded.get(spec.triton_name)
            if found is not None:
                return found[1]
            client = await self._ensure_worker()
            write_model_directory(spec, self.settings.work_dir.resolve() / "repository")
            started = time.perf_counter()
            try:
                await client.load_model(spec.triton_name, client_timeout=self.settings.load_timeout_seconds)
            except InferenceServerException as error:
                raise ModelLoadFailed(
                    f"cannot load language model {spec.model_id}: {error.message()}",
                    details={"model_id": spec.model_id, "source": str(spec.source)},
                ) from error
            log.info(
                "language model placed",
                extra={"model": spec.model_id, "seconds": time.perf_counter() - started},
            )
            assert self._worker is not None
            stats = await fetch_stats(client, spec.triton_name)
            placement = Placement(self._worker.id, spec.triton_name, client, str(stats["device"]))
            self._loaded[spec.triton_name] = (spec, placement)
            return placement

    def placed(self) -> list[tuple[LLMSpec, Placement]]:
        """Models loaded now."""
        return list(self._loaded.values())

    def need_bytes(self, spec: LLMSpec) -> int:
        """The estimate (this placer measures no memory)."""
        return estimate_bytes(spec)

    async def unload(self, spec: LLMSpec) -> int:
        """Unloads the model from this worker (the next request loads it again); its memory is not
        measured here."""
        found = self._loaded.pop(spec.triton_name, None)
        if found is not None and self._client is not None:
            await self._client.unload_model(spec.triton_name)
        return 0

    async def _ensure_worker(self) -> InferenceServerClient:
        from services.inference.worker import TritonWorker, prepare_backend_dir

        if self._worker is not None and self._worker.alive and self._client is not None:
            return self._client
        root = self.settings.work_dir.resolve()
        (root / "repository").mkdir(parents=True, exist_ok=True)
        worker = TritonWorker(
            id="llm-0",
            repository=root / "repository",
            backend_dir=prepare_backend_dir(root / "backends"),
            log_path=root / "triton-llm-0.log",
        )
        await worker.start()
        try:
            await worker.wait_ready(self.settings.load_timeout_seconds)
        except (RuntimeError, TimeoutError) as error:
            raise BackendUnavailable(f"generation worker did not start: {error}") from error
        self._worker = worker
        self._loaded.clear()
        self._client = InferenceServerClient(worker.grpc_address)
        return self._client

    async def close(self) -> None:
        """Stops the worker."""
        if self._client is not None:
            await self._client.close()
        if self._worker is not None:
            await self._worker.stop()
        self._worker = self._client = None
        self._loaded.clear()


class PoolLLMPlacer:
    """Places language models through the inference service's worker pool (issue 3's interface)."""

    def __init__(self, pool: Any, settings: GenerationSettings) -> None:
        self.pool = pool
        self.settings = settings
        self._installed: dict[str, LLMSpec] = {}
        self._lock = asyncio.Lock()

    async def place(self, spec: LLMSpec) -> Placement:
        """A worker holding the model, installing and loading it on first use."""
        if spec.triton_name not in self._installed:
            async with self._lock:
                if spec.triton_name not in self._installed:
                    # Staged inside the pool's own directory (the service's data dir), not the cwd.
                    root = getattr(self.pool, "root", None)
                    staging = (root / "llm-models") if root else self.settings.work_dir.resolve() / "models"
                    source = await asyncio.to_thread(write_model_directory, spec, staging)
                    estimate = await asyncio.to_thread(estimate_bytes, spec)
                    await self.pool.install_model_dir(spec.triton_name, source, estimate_bytes=estimate)
                    self._installed[spec.triton_name] = spec
        client = await self.pool.client_for(spec.triton_name)
        worker_id = next((wid for wid, c in self.pool.clients.items() if c is client), "")
        device = getattr(self.pool.placements.get(spec.triton_name), "device", "cpu")
        return Placement(worker_id, spec.triton_name, client, device)

    def placed(self) -> list[tuple[LLMSpec, Placement]]:
        """Models loaded now, one row per worker holding each."""
        rows = []
        for spec in self._installed.values():
            placement = self.pool.placements.get(spec.triton_name)
            for worker_id in sorted(getattr(placement, "workers", ())):
                client = self.pool.clients.get(worker_id)
                if client is not None:
                    rows.append((spec, Placement(worker_id, spec.triton_name, client, placement.device)))
        return rows

    def track(self, spec: LLMSpec, placement: Placement) -> Any:
        """Counts one generation in the pool's per-model and per-worker statistics."""
        return self.pool.track(spec.triton_name, placement.worker_id)

    @property
    def root(self) -> Path | None:
        """The pool's own directory (quantized variants are written under it)."""
        return getattr(self.pool, "root", None)

    def need_bytes(self, spec: LLMSpec) -> int:
        """What the pool measured after the model's last load, else the estimate."""
        placement = self.pool.placements.get(spec.triton_name)
        measured = getattr(placement, "measured_bytes", 0) if placement is not None else 0
        return int(measured) or estimate_bytes(spec)

    async def unload(self, spec: LLMSpec) -> int:
        """Scales the model to zero on the pool (standby): the next request loads it again."""
        if spec.triton_name not in self._installed:
            return 0
        return int(await self.pool.unload(spec.triton_name, standby=True))

    async def close(self) -> None:
        """The pool is closed by the service that owns it."""
