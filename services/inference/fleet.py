"""The Triton worker processes of the pool: starts them, replaces one whose process dies, grows and
shrinks their number, and keeps a gRPC and a keep-alive HTTP client for each ready one. What the
workers hold (placements) is the pool's; the fleet tells it when a worker is ready or forgotten."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import tritonclient.grpc.aio as triton

from services.common.errors import BackendUnavailable, InvalidInput
from services.inference.stats import Statistics
from services.inference.triton_http import TritonHttpClient
from services.inference.worker import TritonWorker, prepare_backend_dir

log = logging.getLogger("meshserve.inference.pool")

#: Tries to start one worker before it is left failed.
BOOT_ATTEMPTS = 3


class WorkerFleet:
    """The workers, their clients, and their lifecycle."""

    def __init__(
        self,
        root: Path,
        repository_root: Path,
        worker_count: int,
        stats: Statistics,
        *,
        max_workers: int = 8,
        model_threads: int = 1,
        start_timeout: float = 60.0,
        wait_timeout: float = 120.0,
        on_ready: Callable[[], Awaitable[None]],
        on_forget: Callable[[TritonWorker], None],
    ) -> None:
        self.root = root
        self.repository_root = repository_root
        self.target = worker_count
        #: The most workers ``set_count`` grows to: each is a process with its models' memory.
        self.max_workers = max(max_workers, worker_count)
        self.stats = stats
        self.model_threads = model_threads
        self.start_timeout = start_timeout
        self.wait_timeout = wait_timeout
        self.workers: dict[str, TritonWorker] = {}
        self.clients: dict[str, triton.InferenceServerClient] = {}
        self.http_clients: dict[str, TritonHttpClient] = {}
        self._on_ready = on_ready
        self._on_forget = on_forget
        self._changed = asyncio.Condition()
        self._next = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._backend_dir: Path | None = None

    async def start(self) -> None:
        """Starts the supervisor and the configured number of workers, in the background."""
        self._backend_dir = await asyncio.to_thread(prepare_backend_dir, self.root / "backends")
        self._supervisor = asyncio.create_task(self._supervise())
        for _ in range(self.target):
            self._spawn()

    async def close(self) -> None:
        """Stops every worker."""
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
        for task in list(self._tasks):
            task.cancel()
        for client in [*self.clients.values(), *self.http_clients.values()]:
            with contextlib.suppress(Exception):
                await client.close()
        await asyncio.gather(*(w.stop() for w in self.workers.values()), return_exceptions=True)

    def _spawn(self) -> TritonWorker:
        worker_id = f"worker-{self._next}"
        self._next += 1
        assert self._backend_dir is not None
        worker = TritonWorker(
            id=worker_id,
            repository=self.repository_root,
            backend_dir=self._backend_dir,
            log_path=self.root / "logs" / f"{worker_id}.log",
            model_threads=self.model_threads,
        )
        self.workers[worker_id] = worker
        self._background(self._boot(worker))
        return worker

    def _background(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _boot(self, worker: TritonWorker) -> None:
        """Starts a worker, connects, then restores the replicas models lack.

        A start that fails (the process exits at once, or is not live in time) is tried again after
        1 s and 2 s while the worker still belongs to the pool: requests waiting for a worker (a
        cold start from zero) should not hang on one bad spawn.
        """
        for attempt in range(BOOT_ATTEMPTS):
            try:
                await worker.start()
                await worker.wait_ready(self.start_timeout)
                break
            except Exception:
                log.exception(
                    "worker %s failed to start (attempt %d of %d)", worker.id, attempt + 1, BOOT_ATTEMPTS
                )
                worker.state = "failed"
                worker.kill_group()
                if attempt + 1 == BOOT_ATTEMPTS:
                    return
            await asyncio.sleep(2.0**attempt)
            if self._closing or self.workers.get(worker.id) is not worker:
                return  # closed or scaled away meanwhile
        self.http_clients[worker.id] = TritonHttpClient(worker.http_address)
        self.clients[worker.id] = triton.InferenceServerClient(worker.grpc_address)
        log.info("worker ready", extra={"worker": worker.id, "grpc": worker.grpc_address, "pid": worker.pid})
        async with self._changed:
            self._changed.notify_all()
        await self._on_ready()

    async def _supervise(self) -> None:
        """Replaces any worker whose process exits while it should be running."""
        while not self._closing:
            for worker in list(self.workers.values()):
                if worker.process is not None and not worker.alive and worker.state == "ready":
                    await self.replace(worker)
            await asyncio.sleep(0.1)

    async def replace(self, worker: TritonWorker) -> None:
        code = worker.process.returncode if worker.process else None
        log.warning("worker died; replacing it", extra={"worker": worker.id, "exit_code": code})
        worker.state = "failed"
        worker.kill_group()
        self.forget(worker)
        worker.restarts += 1
        self._background(self._boot(worker))

    def forget(self, worker: TritonWorker) -> None:
        for client in (self.clients.pop(worker.id, None), self.http_clients.pop(worker.id, None)):
            if client is not None:
                self._background(client.close())
        self._on_forget(worker)
        worker.models.clear()

    async def set_count(self, count: int) -> tuple[int, int]:
        """Grows or shrinks the fleet; models on removed workers move on their next request."""
        if count < 0:
            raise InvalidInput("worker count must be >= 0", details={"count": count})
        if count > self.max_workers:
            raise InvalidInput(
                f"worker count {count} exceeds the limit of {self.max_workers}",
                details={"count": count, "max_workers": self.max_workers},
                suggestion="raise MESHSERVE_INFERENCE_MAX_WORKERS, or scale out with more inference replicas",
            )
        previous = len(self.workers)
        self.target = count
        while len(self.workers) < count:
            self._spawn()
        if len(self.workers) > count:
            # Remove the least busy workers, newest first among equals.
            order = sorted(
                self.workers.values(),
                key=lambda w: (self.stats.worker(w.id).in_flight, -int(w.id.split("-")[1])),
            )
            for worker in order[: len(self.workers) - count]:
                worker.state = "stopping"
                self.forget(worker)
                del self.workers[worker.id]
                self._background(worker.stop())
        return previous, len(self.workers)

    def ready_workers(self) -> list[TritonWorker]:
        """Workers that can take calls now."""
        return [w for w in self.workers.values() if w.state == "ready" and w.alive and w.id in self.clients]

    def metrics_targets(self) -> list[tuple[str, str]]:
        """(worker id, URL of its own Triton metrics) of every ready worker; safe from any thread."""
        return [
            (w.id, f"http://{w.host}:{w.metrics_port}/metrics")
            for w in list(self.workers.values())
            if w.state == "ready" and w.alive and w.metrics_port
        ]

    async def wait_for_workers(self) -> list[TritonWorker]:
        """Ready workers, waiting up to ``wait_timeout`` for one when there is none.

        Waiting (rather than failing) is what makes scale to zero usable: the caller is counted as
        demand (``Counter.waiting``), the autoscaler sees it at zero replicas and adds a worker.
        """
        ready = self.ready_workers()
        if ready:
            return ready
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(self.ready_workers), self.wait_timeout)
            except TimeoutError:
                if self.target == 0:
                    raise BackendUnavailable(
                        f"no Triton worker within {self.wait_timeout:.0f}s: the pool is scaled to zero"
                        " and nothing scaled it up",
                        details={"workers": 0},
                        suggestion="raise the worker count (POST /autoscaler/scale) or give the model"
                        " an autoscaling policy",
                    ) from None
                raise BackendUnavailable(
                    f"no Triton worker became ready within {self.wait_timeout:.0f}s"
                ) from None
        return self.ready_workers()
