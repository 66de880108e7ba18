"""A worker whose first start fails (its process exits at once) is started again, so requests that
wait for a worker (a cold start from zero) are served instead of hanging on one bad spawn. The pool
runs in-process here; the second start is a real ``tritonserver``."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from services.inference.pool import WorkerPool
from services.inference.worker import TritonWorker
from tests.procs import free_port

pytestmark = pytest.mark.slow


async def test_a_worker_that_fails_to_start_is_started_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_start = TritonWorker.start
    starts: list[str] = []

    async def first_start_dies(self: TritonWorker) -> None:
        starts.append(self.id)
        if len(starts) > 1:
            await real_start(self)
            return
        self.http_port, self.grpc_port, self.metrics_port = free_port(), free_port(), free_port()
        self.state = "starting"
        self.process = await asyncio.create_subprocess_exec("false")

    monkeypatch.setattr(TritonWorker, "start", first_start_dies)
    pool = WorkerPool(tmp_path, 1, start_timeout=60)
    await pool.start()
    try:
        deadline = time.monotonic() + 90
        while not pool.ready_workers():
            assert time.monotonic() < deadline, [w.state for w in pool.workers.values()]
            await asyncio.sleep(0.1)
        assert starts == ["worker-0", "worker-0"]
        assert [w.id for w in pool.ready_workers()] == ["worker-0"] and "worker-0" in pool.http_clients
    finally:
        await pool.close()
