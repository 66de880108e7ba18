"""The job queue's core without transport: retries, priorities, timeouts, cancel, restart, signing.

The generator here is a scripted coroutine standing in for the language model, so each behaviour
(a transient failure, a slow item) happens on purpose and fast; the real model runs in
tests/inference/test_jobs_mesh.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.common.errors import BackendUnavailable, InvalidInput, ModelNotFound, NotFound, Reason
from services.inference.jobs.manager import JobManager
from services.inference.jobs.records import Generated, ItemSpec, JobConfig, RetryPolicy, State
from services.inference.jobs.settings import JobSettings
from services.inference.jobs.store import JobStore
from services.inference.jobs.webhooks import WebhookHub, sign, validate_url


class Script:
    """A generator whose behaviour per prompt is set by the test."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.failures: dict[str, int] = {}  # prompt -> transient failures left
        self.gate: asyncio.Event | None = None  # when set, prompts starting with "wait" block on it
        self.started = asyncio.Event()

    async def __call__(self, item: ItemSpec, request_id: str) -> Generated:
        self.calls.append(item.prompt)
        self.started.set()
        if item.model == "nope":
            raise ModelNotFound(f"model {item.model!r} does not exist", details={"model": item.model})
        if self.failures.get(item.prompt, 0) > 0:
            self.failures[item.prompt] -= 1
            raise BackendUnavailable("worker restarting")
        if item.prompt.startswith("slow"):
            await asyncio.sleep(30)
        if item.prompt.startswith("wait") and self.gate is not None:
            await self.gate.wait()
        return Generated(
            text=item.prompt.upper(), model=item.model or "m", completion_tokens=2, finish_reason="stop"
        )


def settings(**overrides: object) -> JobSettings:
    return JobSettings(
        runners=1, retry_initial_backoff_seconds=0.01, retry_max_backoff_seconds=0.02, **overrides
    )


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[JobManager, Script]]:
    store = JobStore(tmp_path / "jobs.sqlite3")
    hub = WebhookHub(store, settings())
    script = Script()
    manager = JobManager(store, script, hub, settings())
    await manager.start()
    yield manager, script
    await manager.stop()
    await hub.close()
    store.close()


async def finished(manager: JobManager, job_id: str, timeout: float = 10) -> State:
    async with asyncio.timeout(timeout):
        await manager.wait_until(
            lambda: manager.get(job_id).state in (State.COMPLETED, State.FAILED, State.CANCELLED)
        )
    return manager.get(job_id).state


def config(**kw: object) -> JobConfig:
    base = {
        "retry": RetryPolicy(initial_backoff=0.01, max_backoff=0.02),
        "timeout_seconds": 10.0,
        "concurrency": 2,
    }
    return JobConfig(**{**base, **kw})  # type: ignore[arg-type]


async def test_unknown_model_fails_its_item_only_and_transient_failures_are_retried(env) -> None:
    manager, script = env
    script.failures["flaky"] = 2
    job = manager.submit(
        "batch",
        [ItemSpec("m", "one"), ItemSpec("nope", "two"), ItemSpec("m", "flaky")],
        config(),
    )
    assert await finished(manager, job.job_id) == State.COMPLETED
    job = manager.get(job.job_id)
    ok, bad, flaky = job.results
    assert (ok.state, ok.text, ok.attempts) == (State.COMPLETED, "ONE", 1)
    assert bad.state == State.FAILED and bad.error is not None and bad.error.code == "MODEL_NOT_FOUND"
    assert bad.attempts == 1  # an unknown model is never retried
    assert (flaky.state, flaky.text, flaky.attempts) == (State.COMPLETED, "FLAKY", 3)
    assert (job.done, job.succeeded, job.failed, job.percent) == (3, 2, 1, 100.0)


async def test_retries_stop_at_max_attempts(env) -> None:
    manager, script = env
    script.failures["flaky"] = 5
    job = manager.submit(
        "text_generation",
        [ItemSpec("m", "flaky")],
        config(retry=RetryPolicy(max_attempts=2, initial_backoff=0.01)),
    )
    assert await finished(manager, job.job_id) == State.FAILED
    job = manager.get(job.job_id)
    assert job.results[0].attempts == 2
    assert job.error is not None and job.error.code == "BACKEND_UNAVAILABLE"


async def test_higher_priority_runs_first(env) -> None:
    manager, script = env
    script.gate = asyncio.Event()
    blocker = manager.submit("text_generation", [ItemSpec("m", "wait")], config())
    await script.started.wait()
    low = manager.submit("text_generation", [ItemSpec("m", "low")], config(priority="low"))
    normal = manager.submit("text_generation", [ItemSpec("m", "normal")], config())
    high = manager.submit("text_generation", [ItemSpec("m", "high")], config(priority="high"))
    assert manager.queue_position(manager.get(low.job_id)) == 2
    assert manager.queue_position(manager.get(high.job_id)) == 0
    script.gate.set()
    for job in (blocker, low, normal, high):
        assert await finished(manager, job.job_id) == State.COMPLETED
    assert script.calls == ["wait", "high", "normal", "low"]


async def test_timeout_fails_the_job_and_its_unfinished_items(env) -> None:
    manager, _ = env
    job = manager.submit("batch", [ItemSpec("m", "fast"), ItemSpec("m", "slow")], config(timeout_seconds=0.3))
    assert await finished(manager, job.job_id) == State.FAILED
    job = manager.get(job.job_id)
    assert job.error is not None and job.error.reason == Reason.REASON_DEADLINE_EXCEEDED
    assert job.results[0].state == State.COMPLETED
    assert job.results[1].state == State.FAILED and job.results[1].error.code == "DEADLINE_EXCEEDED"


async def test_cancel_running_and_queued_jobs(env) -> None:
    manager, script = env
    script.gate = asyncio.Event()
    running = manager.submit("text_generation", [ItemSpec("m", "wait")], config())
    await script.started.wait()
    queued = manager.submit("text_generation", [ItemSpec("m", "later")], config())
    assert (await manager.cancel(queued.job_id)).state == State.CANCELLED
    assert (await manager.cancel(running.job_id)).state == State.CANCELLED
    assert manager.get(running.job_id).results[0].state == State.CANCELLED
    assert "later" not in script.calls
    with pytest.raises(Exception) as info:
        await manager.cancel(running.job_id)
    assert getattr(info.value, "code", "") == "FAILED_PRECONDITION"


async def test_a_cancelled_batch_counts_its_unrun_items_as_cancelled_not_failed(env) -> None:
    manager, script = env
    script.gate = asyncio.Event()
    items = [
        ItemSpec("m", "first"),
        ItemSpec("nope", "broken"),
        ItemSpec("m", "wait"),
        ItemSpec("m", "never"),
    ]
    job = manager.submit("batch", items, config(concurrency=1))
    await script.started.wait()
    async with asyncio.timeout(10):
        await manager.wait_until(lambda: "wait" in script.calls)
    cancelled = await manager.cancel(job.job_id)
    assert [r.state for r in cancelled.results] == [
        State.COMPLETED,
        State.FAILED,
        State.CANCELLED,
        State.CANCELLED,
    ]
    assert (cancelled.done, cancelled.succeeded, cancelled.failed, cancelled.cancelled) == (4, 1, 1, 2)
    assert cancelled.snapshot()["progress"] == {
        "total": 4,
        "completed": 4,
        "succeeded": 1,
        "failed": 1,
        "cancelled": 2,
        "percent": 100.0,
    }


async def test_unfinished_jobs_resume_after_a_restart(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    hub = WebhookHub(store, settings())
    first = Script()
    first.gate = asyncio.Event()  # never set: the job is mid-run when the service stops
    manager = JobManager(store, first, hub, settings())
    await manager.start()
    job = manager.submit(
        "batch", [ItemSpec("m", "done-before"), ItemSpec("m", "wait")], config(concurrency=1)
    )
    await finished_item(manager, job.job_id, 0)
    await manager.stop()
    store.close()

    store = JobStore(tmp_path / "jobs.sqlite3")
    second = Script()
    manager = JobManager(store, second, WebhookHub(store, settings()), settings())
    assert store.load(job.job_id).state == State.RUNNING
    await manager.start()
    assert await finished(manager, job.job_id) == State.COMPLETED
    assert second.calls == ["wait"]  # the finished item was not run again
    assert [r.text for r in manager.get(job.job_id).results] == ["DONE-BEFORE", "WAIT"]
    await manager.stop()
    store.close()


async def finished_item(manager: JobManager, job_id: str, index: int) -> None:
    async with asyncio.timeout(10):
        await manager.wait_until(lambda: manager.get(job_id).results[index].state == State.COMPLETED)


async def test_bad_submissions_are_refused(env) -> None:
    manager, _ = env
    with pytest.raises(InvalidInput) as info:
        manager.submit("video_rendering", [ItemSpec("m", "x")], config())
    assert {"text_generation", "document_analysis"} <= set(info.value.details["supported"])
    with pytest.raises(InvalidInput) as info:
        manager.submit("batch", [ItemSpec("m", "x")], config(callback_url="ftp://example.com/x"))
    assert info.value.details["field"] == "config.callback_url"
    with pytest.raises(InvalidInput):
        manager.submit("batch", [], config())
    with pytest.raises(InvalidInput) as info:  # an empty job says what its type takes
        manager.submit("text_generation", [], config())
    assert "input_data.prompts" in info.value.details["needs"]
    # 003's text_generation takes several prompts (input_data.prompts)
    assert (
        len(manager.submit("text_generation", [ItemSpec("m", "a"), ItemSpec("m", "b")], config()).items) == 2
    )
    with pytest.raises(NotFound):
        manager.get("job_missing")


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(initial_backoff=1.0, max_backoff=5.0, multiplier=2.0)
    rng = random.Random(7)
    for attempt, nominal in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)):
        delay = policy.delay(attempt, rng)
        assert nominal / 2 <= delay <= nominal
    assert RetryPolicy(strategy="fixed", initial_backoff=3.0).delay(5, rng) <= 3.0
    assert not RetryPolicy(strategy="none").allows_retry(1)
    assert RetryPolicy(max_attempts=3).allows_retry(2) and not RetryPolicy(max_attempts=3).allows_retry(3)


def test_signature_is_hmac_sha256_of_the_body() -> None:
    body = b'{"event":"job.completed"}'
    expected = hmac.new(b"k3y", body, hashlib.sha256).hexdigest()
    assert sign("k3y", body) == f"sha256={expected}"
    assert validate_url(" https://a.example/hook ", "url") == "https://a.example/hook"
    for bad in ("ftp://a.example", "file:///etc/passwd", "https://", "not a url", "javascript:alert(1)"):
        with pytest.raises(InvalidInput):
            validate_url(bad, "url")
