"""Two job managers (two inference replicas in all but their process) sharing one real PostgreSQL:
status and cancel from either, takeover after a replica stops renewing its lease, writes of the
replica that lost the lease fenced off, and each event sent once. The process-level version, with
kill -9, is tests/ops/test_replicas.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from services.inference.jobs.manager import JobManager
from services.inference.jobs.pg_store import PostgresJobStore
from services.inference.jobs.records import FINAL, ItemSpec, JobConfig, RetryPolicy, State
from services.inference.jobs.settings import JobSettings
from services.inference.jobs.webhooks import WebhookHub
from tests.inference.test_jobs_core import Script
from tests.servers import fresh_database


class RecordingHub(WebhookHub):
    """A webhook hub that also records every event it emits."""

    emitted: list[tuple[str, str]]

    def emit(self, event: str, data: Mapping[str, Any]) -> None:
        self.emitted.append((event, str(data.get("job_id", ""))))
        super().emit(event, data)


@dataclass
class Replica:
    store: PostgresJobStore
    hub: RecordingHub
    script: Script
    manager: JobManager
    started: bool = False

    async def start(self) -> None:
        await self.manager.start()
        self.started = True


@dataclass
class Pair:
    a: Replica
    b: Replica
    events: list[tuple[str, str]] = field(default_factory=list)


def settings(**overrides: Any) -> JobSettings:
    base = {"runners": 1, "poll_seconds": 0.05, "lease_seconds": 0.6, "cancel_wait_seconds": 5.0}
    return JobSettings(**{**base, **overrides})


@pytest.fixture
async def pair(postgres_url: str) -> AsyncIterator[Pair]:
    url = fresh_database(postgres_url)
    events: list[tuple[str, str]] = []
    replicas = []
    for name in "AB":
        store = PostgresJobStore(url)
        hub = RecordingHub(store, settings())
        hub.emitted = events
        script = Script()
        replicas.append(Replica(store, hub, script, JobManager(store, script, hub, settings(), owner=name)))
    yield Pair(replicas[0], replicas[1], events)
    for replica in replicas:
        if replica.started:
            await replica.manager.stop()
        await replica.hub.close()
        replica.store.close()


def config() -> JobConfig:
    return JobConfig(retry=RetryPolicy(initial_backoff=0.01, max_backoff=0.02), timeout_seconds=30.0)


async def settled(manager: JobManager, job_id: str) -> State:
    async with asyncio.timeout(15):
        await manager.wait_until(lambda: manager.get(job_id).state in FINAL)
    return manager.get(job_id).state


async def test_a_job_submitted_on_one_replica_is_run_and_reported_by_the_other(pair: Pair) -> None:
    await pair.b.start()  # only B runs jobs; A takes the submission and answers status
    job = pair.a.manager.submit("batch", [ItemSpec("m", "one"), ItemSpec("m", "two")], config())
    assert await settled(pair.a.manager, job.job_id) == State.COMPLETED
    for replica in (pair.a, pair.b):
        seen = replica.manager.get(job.job_id)
        assert [r.text for r in seen.results] == ["ONE", "TWO"]
    assert pair.b.store.owner_of(job.job_id) == "B"
    assert sorted(pair.b.script.calls) == ["one", "two"] and pair.a.script.calls == []
    assert pair.events.count(("batch.finished", job.job_id)) == 1
    assert pair.events.count(("job.completed", job.job_id)) == 1


async def test_a_cancel_through_one_replica_stops_the_job_running_on_the_other(pair: Pair) -> None:
    pair.a.script.gate = asyncio.Event()  # never set: A's item runs until cancelled
    await pair.a.start()
    job = pair.a.manager.submit("text_generation", [ItemSpec("m", "wait")], config())
    await asyncio.wait_for(pair.a.script.started.wait(), 10)
    cancelled = await pair.b.manager.cancel(job.job_id)  # B is not running anything itself
    assert cancelled.state == State.CANCELLED
    assert cancelled.results[0].state == State.CANCELLED
    assert pair.events.count(("job.cancelled", job.job_id)) == 1


async def test_a_job_whose_replica_stops_renewing_is_finished_by_the_other_once(pair: Pair) -> None:
    pair.a.script.gate = asyncio.Event()
    await pair.a.start()
    job = pair.a.manager.submit("batch", [ItemSpec("m", "done"), ItemSpec("m", "wait")], config())
    await asyncio.wait_for(pair.a.script.started.wait(), 10)
    async with asyncio.timeout(10):
        await pair.a.manager.wait_until(
            lambda: pair.a.manager.get(job.job_id).results[0].state == State.COMPLETED
        )
    # A hangs: its keeper stops (no more renewals) while its item is still running.
    assert pair.a.manager._keeper is not None
    pair.a.manager._keeper.cancel()
    await pair.b.start()
    assert await settled(pair.b.manager, job.job_id) == State.COMPLETED
    assert pair.b.script.calls == ["wait"]  # the finished item was not run again
    assert pair.b.store.owner_of(job.job_id) == "B"
    # A wakes up and finishes its copy of the item: nothing it writes lands.
    pair.a.script.gate.set()
    await asyncio.sleep(0.3)
    final = pair.b.manager.get(job.job_id)
    assert final.state == State.COMPLETED and final.results[1].text == "WAIT"
    assert pair.events.count(("job.completed", job.job_id)) == 1
    assert pair.events.count(("batch.finished", job.job_id)) == 1


async def test_a_job_whose_replicas_keep_dying_fails_with_its_documented_error(pair: Pair) -> None:
    pair.b.manager.settings = settings(max_takeovers=1)
    pair.a.script.gate = asyncio.Event()
    await pair.a.start()
    job = pair.a.manager.submit("text_generation", [ItemSpec("m", "wait")], config())
    await asyncio.wait_for(pair.a.script.started.wait(), 10)
    assert pair.a.manager._keeper is not None
    pair.a.manager._keeper.cancel()
    await pair.b.start()
    assert await settled(pair.b.manager, job.job_id) == State.FAILED
    failed = pair.b.manager.get(job.job_id)
    assert failed.error is not None and failed.error.code == "BACKEND_UNAVAILABLE"
    assert "(1 takeover(s))" in failed.error.message
    assert pair.b.script.calls == []
    assert pair.events.count(("job.failed", job.job_id)) == 1
