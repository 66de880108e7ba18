"""The Triton worker pool: its workers (:mod:`services.inference.fleet` starts, supervises and
replaces the ``tritonserver`` processes), the models placed on them
(:mod:`services.inference.placements`), loads under the memory budget, and the choice of the
least-loaded worker holding a model for each request (the tensor data path itself is
:mod:`services.inference.dispatch`). Workers are driven with ``tritonclient.grpc.aio`` (KServe v2
gRPC), except tensor requests, which take the keep-alive HTTP path of
:mod:`services.inference.triton_http`.

A model that ships its own Triton model directory (the decoupled text-generation model) uses
``install_model_dir`` (copies it into the repository and loads it), ``client_for`` / ``address_for``
(a ready worker holding it, loading it again if its worker died), ``track`` (counts one request in
the model's and worker's statistics) and ``unload``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import tritonclient.grpc.aio as triton
from tritonclient.utils import InferenceServerException

from services.common.errors import (
    BackendUnavailable,
    ModelLoadFailed,
    ModelNotFound,
    ModelNotLoaded,
)
from services.inference.budget import Resident, plan_room
from services.inference.fleet import WorkerFleet
from services.inference.instances import live_instances, resident_bytes
from services.inference.placements import (
    MODEL_EVICTIONS,
    MODEL_LOADS,
    RESIDENT_BYTES,
    Placement,
    Preparer,
)
from services.inference.repository import Batching, ModelRepository
from services.inference.stats import Statistics
from services.inference.triton_http import TritonHttpClient
from services.inference.worker import TritonWorker

log = logging.getLogger("meshserve.inference.pool")


class WorkerPool:
    """Workers, placements and the data path to them."""

    def __init__(
        self,
        root: Path,
        worker_count: int = 1,
        *,
        model_threads: int = 1,
        start_timeout: float = 60.0,
        wait_timeout: float = 120.0,
        utilization_window: float = 10.0,
        memory_budget_bytes: int = 0,
        max_workers: int = 8,
    ) -> None:
        self.root = root
        #: Resident memory every loaded model together may hold (0: no budget; see budget.py).
        self.memory_budget_bytes = memory_budget_bytes
        self._budget_lock = asyncio.Lock()
        self.repository = ModelRepository(root / "models")
        self.placements: dict[str, Placement] = {}
        self.stats = Statistics(window_seconds=utilization_window)
        self.fleet = WorkerFleet(
            root,
            self.repository.root,
            worker_count,
            self.stats,
            max_workers=max_workers,
            model_threads=model_threads,
            start_timeout=start_timeout,
            wait_timeout=wait_timeout,
            on_ready=self._restore_replicas,
            on_forget=self._forget_worker,
        )

    # ---- workers (the fleet) ----------------------------------------------------------------

    @property
    def workers(self) -> dict[str, TritonWorker]:
        """Every worker, by id."""
        return self.fleet.workers

    @property
    def clients(self) -> dict[str, triton.InferenceServerClient]:
        """The gRPC client of each ready worker."""
        return self.fleet.clients

    @property
    def http_clients(self) -> dict[str, TritonHttpClient]:
        """The keep-alive HTTP client (tensor data path) of each ready worker."""
        return self.fleet.http_clients

    @property
    def target(self) -> int:
        """The number of workers asked for."""
        return self.fleet.target

    async def start(self) -> None:
        """Starts the supervisor and the configured number of workers, in the background."""
        await self.fleet.start()

    async def close(self) -> None:
        """Stops every worker."""
        await self.fleet.close()

    def ready_workers(self) -> list[TritonWorker]:
        """Workers that can take calls now."""
        return self.fleet.ready_workers()

    def metrics_targets(self) -> list[tuple[str, str]]:
        """(worker id, URL of its own Triton metrics) of every ready worker; safe from any thread."""
        return self.fleet.metrics_targets()

    async def set_worker_count(self, count: int) -> tuple[int, int]:
        """Grows or shrinks the pool; models on removed workers move on their next request."""
        return await self.fleet.set_count(count)

    async def replace(self, worker: TritonWorker) -> None:
        """Replaces a worker whose process died."""
        await self.fleet.replace(worker)

    async def _restore_replicas(self) -> None:
        """After a worker became ready: loads again the replicas that models lack."""
        for placement in list(self.placements.values()):
            if placement.status == "loaded" and len(self._holders(placement.name)) < placement.replicas:
                with contextlib.suppress(Exception):
                    await self._load_more(placement)

    def _forget_worker(self, worker: TritonWorker) -> None:
        for placement in self.placements.values():
            placement.workers.discard(worker.id)

    # ---- placement -------------------------------------------------------------------------

    def _holders(self, name: str) -> list[TritonWorker]:
        placement = self.placements.get(name)
        if placement is None:
            return []
        return [w for w in self.ready_workers() if w.id in placement.workers]

    def register(
        self,
        name: str,
        prepare: Preparer | None,
        *,
        batching: Batching | None = None,
        device: str = "auto",
        replicas: int = 1,
        estimate_bytes: int = 0,
    ) -> Placement:
        """Records how to place a model (its repository entry is written on first load);
        ``estimate_bytes`` is what one instance will hold, for the memory budget's first load."""
        placement = self.placements.get(name)
        if placement is None:
            placement = Placement(name=name)
            self.placements[name] = placement
        placement.prepare = prepare
        placement.estimate_bytes = estimate_bytes or placement.estimate_bytes
        if batching is not None:
            placement.batching = batching
        placement.device_preference = device
        placement.replicas = max(1, replicas)
        return placement

    async def load(self, name: str, *, explicit: bool = True) -> Placement:
        """Loads a registered model on as many workers as its replicas ask for."""
        placement = self.placements[name]
        if explicit and placement.status == "unloaded":
            placement.status = "ready"
        await self._load_more(placement)
        return placement

    async def _load_more(self, placement: Placement) -> None:
        async with placement.lock:
            if placement.status == "unloaded":
                raise ModelNotLoaded(
                    f"model {placement.name!r} was unloaded",
                    details={"model": placement.name},
                    suggestion="load the model again before predicting",
                )
            missing = placement.replicas - len(self._holders(placement.name))
            if missing <= 0:
                return
            ready = await self.fleet.wait_for_workers()
            candidates = sorted(
                (w for w in ready if w.id not in placement.workers),
                key=lambda w: (len(w.models), self.stats.worker(w.id).in_flight),
            )[:missing]
            if not candidates and not placement.workers:
                raise BackendUnavailable("no worker can take the model", details={"model": placement.name})
            async with self._budget_lock if self.memory_budget_bytes else contextlib.nullcontext():
                if self.memory_budget_bytes:
                    await self._make_room(placement, len(candidates))
                await self._place_instances(placement, candidates)

    async def _place_instances(self, placement: Placement, candidates: list[TritonWorker]) -> None:
        """Loads the model on ``candidates`` and records what the load measured. A model already
        serving on a worker stays ``loaded`` while it gains a replica."""
        if not placement.workers:
            placement.status = "loading"
        started = time.perf_counter()
        try:
            if placement.prepare is not None and (
                not self.repository.has(placement.name) or not placement.workers
            ):
                await placement.prepare()
            for worker in candidates:
                await self.clients[worker.id].load_model(placement.name)
                worker.models.add(placement.name)
                placement.workers.add(worker.id)
                placement.loads += 1
                MODEL_LOADS.labels(placement.name).inc()
        except InferenceServerException as error:
            placement.status = "failed"
            placement.reason = error.message() or str(error)
            raise ModelLoadFailed(
                f"Triton could not load {placement.name!r}: {placement.reason}",
                details={"model": placement.name},
            ) from None
        except Exception as error:
            placement.status = "failed"
            placement.reason = str(error)
            raise
        placement.load_seconds = round(time.perf_counter() - started, 3)
        placement.status = "loaded"
        placement.reason = ""
        facts = self._runtime_facts(placement.name)
        placement.device = str(facts.get("device") or placement.device)
        placement.engine = str(facts.get("engine", ""))
        placement.engine_reason = str(facts.get("engine_reason", ""))
        instances = len(placement.workers)
        if instances:
            placement.measured_bytes = self.memory_bytes(placement.name) // instances
        RESIDENT_BYTES.labels(placement.name).set(self.memory_bytes(placement.name))

    async def _make_room(self, placement: Placement, instances: int) -> None:
        """Unloads the least recently used idle models until ``instances`` more of this one fit in
        the budget (see budget.py); INSUFFICIENT_MEMORY when they cannot."""
        loaded = [
            Resident(
                name=p.name,
                bytes=self.memory_bytes(p.name),
                last_used=p.last_used,
                # A request in flight (counted from its arrival; a generation from its routing, with
                # no suspension in between), or a load or unload under way.
                busy=self.stats.model(p.name).in_flight > 0 or p.lock.locked(),
            )
            for p in self.placements.values()
            if p.workers and p is not placement
        ]
        need = placement.need_bytes * instances
        for victim in plan_room(self.memory_budget_bytes, placement.name, need, loaded):
            log.info(
                "model unloaded to make room under the memory budget",
                extra={
                    "model": victim,
                    "for_model": placement.name,
                    "budget_bytes": self.memory_budget_bytes,
                },
            )
            await self.unload(victim, standby=True)
            self.placements[victim].evictions += 1
            MODEL_EVICTIONS.labels(victim).inc()

    async def unload(self, name: str, *, standby: bool = False) -> int:
        """Unloads a model from every worker; returns the resident bytes its instances held.

        ``standby`` scales it to zero instead: the next request loads it again (a cold start)
        rather than answering MODEL_NOT_LOADED.
        """
        placement = self.placements.get(name)
        if placement is None:
            return 0
        async with placement.lock:
            # Nothing on a worker, nothing freed: Triton ends an unloaded model's stub processes a
            # moment after it answers, and measuring them then counted their memory again.
            freed = self.memory_bytes(name) if placement.workers else 0
            for worker_id in list(placement.workers):
                client = self.clients.get(worker_id)
                if client is not None:
                    with contextlib.suppress(InferenceServerException):
                        await client.unload_model(name)
                worker = self.workers.get(worker_id)
                if worker is not None:
                    worker.models.discard(name)
            placement.workers.clear()
            placement.status = "ready" if standby else "unloaded"
            RESIDENT_BYTES.labels(name).set(0)
            return freed

    async def discard(self, name: str) -> int:
        """Unloads a model and forgets it, files and all (its registry record is gone); returns the
        resident bytes it held."""
        freed = await self.unload(name, standby=True)
        if self.placements.pop(name, None) is not None:
            self.repository.remove(name)
        self.stats.models.pop(name, None)  # GetStats and the autoscaler no longer count it
        for metric in (RESIDENT_BYTES, MODEL_LOADS, MODEL_EVICTIONS):
            with contextlib.suppress(KeyError):  # a series it never had
                metric.remove(name)
        return freed

    async def install_model_dir(
        self, name: str, source: Path, replicas: int = 1, estimate_bytes: int = 0
    ) -> Placement:
        """Places a complete Triton model directory (e.g. a decoupled LLM) and loads it."""

        async def prepare() -> None:
            await asyncio.to_thread(self.repository.install_directory, name, source)

        self.register(name, prepare, replicas=replicas, estimate_bytes=estimate_bytes)
        return await self.load(name)

    # ---- data path -------------------------------------------------------------------------

    async def pick(self, name: str, exclude: frozenset[str] = frozenset()) -> TritonWorker:
        """The least-loaded ready worker holding the model, loading it on demand."""
        placement = self.placements.get(name)
        if placement is not None:
            placement.last_used = time.monotonic()
        holders = [w for w in self._holders(name) if w.id not in exclude]
        if not holders:
            placement = self.placements.get(name)
            if placement is None:  # discarded while this request was on its way
                raise ModelNotFound(f"model {name!r} was deleted", details={"model": name})
            await self._load_more(placement)
            holders = [w for w in self._holders(name) if w.id not in exclude]
            if not holders:  # only the excluded worker holds it: place one more replica
                placement.replicas = max(placement.replicas, len(placement.workers) + 1)
                await self._load_more(placement)
                holders = [w for w in self._holders(name) if w.id not in exclude] or self._holders(name)
        if not holders:
            raise BackendUnavailable(f"no worker holds model {name!r}", details={"model": name})
        return min(holders, key=lambda w: self.stats.worker(w.id).in_flight)

    async def client_for(self, name: str) -> triton.InferenceServerClient:
        """Client of the least-loaded worker holding a model (for streaming models)."""
        return self.clients[(await self.pick(name)).id]

    async def address_for(self, name: str) -> str:
        """Triton gRPC address of the least-loaded worker holding a model."""
        return (await self.pick(name)).grpc_address

    @contextlib.asynccontextmanager
    async def track(self, name: str, worker_id: str) -> AsyncIterator[None]:
        """Counts one request on a model and a worker."""
        model, worker = self.stats.model(name), self.stats.worker(worker_id)
        model.begin()
        worker.begin()
        started = time.perf_counter()
        ok = False
        try:
            yield
            ok = True
        finally:
            latency = (time.perf_counter() - started) * 1000
            model.end(latency, ok)
            worker.end(latency, ok)

    # ---- facts -----------------------------------------------------------------------------

    def _live_pids(self) -> set[int]:
        return {w.pid for w in self.workers.values() if w.alive}

    def _runtime_facts(self, name: str) -> dict:
        """What the first live instance of a model wrote about itself (device, engine …), or {}."""
        instances = live_instances(self.repository, self._live_pids(), name)
        return instances[0][0] if instances else {}

    def memory_bytes(self, name: str) -> int:
        """Resident memory of the model's Triton stub processes, measured now (0 when unloaded)."""
        return resident_bytes(self.repository, self._live_pids(), name)

    async def queue_ms(self, name: str) -> tuple[float, int]:
        """Mean Triton queue time (ms) and pending count of a model, from the workers' statistics."""
        total_ns, count = 0, 0
        for worker in self._holders(name):
            with contextlib.suppress(Exception):
                # The message, not as_json: its JSON conversion took the event loop about 3 ms per
                # call, once a model's statistics held a few dozen batch sizes.
                reply = await self.clients[worker.id].get_inference_statistics(name)
                for entry in reply.model_stats:
                    total_ns += entry.inference_stats.queue.ns
                    count += entry.inference_stats.queue.count
        return (total_ns / count / 1e6 if count else 0.0), 0
