"""The job queue: priority order, a fixed number of runners, retries, timeouts, progress, events.

The queue itself is the store (:mod:`.store`): each of ``runners`` runners claims the best waiting
job there (priority, then submission), with a lease that :meth:`JobManager._keep` renews while the
job runs. With PostgreSQL every replica's runners share one queue; a job whose replica dies is
claimed again once its lease runs out and resumes with its unfinished items, up to
``max_takeovers`` times, after which it fails with BACKEND_UNAVAILABLE. Any replica answers status
and cancel: a cancel of a job running elsewhere raises a flag its owner sees within
``poll_seconds``.

A job runs ``concurrency`` of its items at a time. An item that fails with a transient reason is
retried per the job's retry policy; unknown models and invalid input fail the item at once, never
the whole job. A job whose every item failed is ``failed``; one that outlives its timeout is
``failed`` with DEADLINE_EXCEEDED (its unfinished items too). Events and callbacks are sent by the
replica that finishes the job, so each is sent once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from services.common.context import Tenant, caller_var, tenant_var
from services.common.errors import (
    BackendUnavailable,
    Cancelled,
    DeadlineExceeded,
    FailedPrecondition,
    InternalError,
    MeshError,
    NotFound,
)
from services.inference.jobs.announce import Announcer, inference_event
from services.inference.jobs.records import (
    FINAL,
    RETRYABLE,
    CallbackStatus,
    ErrorInfo,
    Generator,
    ItemResult,
    ItemSpec,
    Job,
    JobConfig,
    State,
)
from services.inference.jobs.settings import JobSettings
from services.inference.jobs.store import SqlJobStore
from services.inference.jobs.validation import Validator, validate_submission
from services.inference.jobs.webhooks import WebhookHub

log = logging.getLogger("meshserve.jobs")


class JobManager:
    """Accepts, queues, runs and reports jobs."""

    def __init__(
        self,
        store: SqlJobStore,
        generator: Generator,
        hub: WebhookHub,
        settings: JobSettings,
        validate_item: Validator | None = None,
        owner: str = "",
    ) -> None:
        self.store = store
        self.generator = generator
        self.hub = hub
        self.settings = settings
        self.validate_item = validate_item
        #: This replica's name on the jobs it claims.
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._jobs: dict[str, Job] = {}  # the jobs this replica runs (the rest are read from the store)
        self._wakeup = asyncio.Event()
        self._runners: list[asyncio.Task[None]] = []
        self._keeper: asyncio.Task[None] | None = None
        self._running: dict[str, asyncio.Task[None]] = {}
        self._cancelling: set[str] = set()  # jobs a caller cancelled (not the service stopping)
        self._lost: set[str] = set()  # jobs whose lease another replica took over
        self._tick = asyncio.Event()  # replaced on every change; waiters hold the previous one
        self.announcer = Announcer(hub, self._save)

    # Lifecycle

    async def start(self) -> None:
        """Starts the runners; with a private store, first hands back what a previous run left."""
        if not self.store.shared:  # one replica per file: whatever ran here before is ours to resume
            resumed = self.store.release()
            if resumed:
                log.info("jobs resumed after restart", extra={"jobs": resumed})
        self._runners = [
            asyncio.create_task(self._runner(), name=f"job-runner-{i}") for i in range(self.settings.runners)
        ]
        self._keeper = asyncio.create_task(self._keep(), name="job-keeper")

    async def stop(self) -> None:
        """Stops the runners and hands their jobs back: they stay ``running`` in the store and resume
        at the next start, or at once on another replica."""
        tasks = [*self._runners, *([self._keeper] if self._keeper else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._runners, self._keeper = [], None
        self.store.release(self.owner)

    # Requests

    def submit(self, job_type: str, items: list[ItemSpec], config: JobConfig) -> Job:
        """Validates and queues a job."""
        validate_submission(job_type, items, config, self.settings, self.validate_item)
        job = Job(
            job_id=f"job_{uuid.uuid4().hex[:20]}",
            job_type=job_type,
            config=config,
            items=items,
            results=[ItemResult(index=i, model=item.model or "default") for i, item in enumerate(items)],
            callback=CallbackStatus(url=config.callback_url) if config.callback_url else None,
            seq=time.time_ns() // 1000,  # submission order across replicas (ties: by job id)
        )
        self.store.insert(job)
        self._wakeup.set()
        log.info("job queued", extra={"job_id": job.job_id, "job_type": job_type, "items": len(items)})
        return job

    def get(self, job_id: str) -> Job:
        """A job by id, live while it runs here."""
        job = self._jobs.get(job_id) or self.store.load(job_id)
        if job is None:
            raise NotFound(
                f"job {job_id!r} does not exist",
                details={"job_id": job_id},
                suggestion="use the job_id returned when the job was submitted",
            )
        return job

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Returns once ``predicate`` holds, re-checking it after every change seen here (and every
        ``poll_seconds``, for jobs that run on another replica)."""
        while not predicate():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tick.wait(), self.settings.poll_seconds)

    def _changed(self) -> None:
        tick, self._tick = self._tick, asyncio.Event()
        tick.set()

    def queue_position(self, job: Job) -> int:
        """Queued jobs that will run before this one."""
        return self.store.queue_position(job) if job.state == State.QUEUED else 0

    async def cancel(self, job_id: str) -> Job:
        """Cancels a queued or running job, wherever it runs; a finished one is refused."""
        job = self.get(job_id)
        if job.state in FINAL:
            raise FailedPrecondition(
                f"job {job_id!r} already {job.state.value}",
                details={"job_id": job_id, "status": job.state.value},
            )
        task = self._running.get(job_id)
        if task is not None:
            self._cancelling.add(job_id)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return self.get(job_id)
        error = ErrorInfo.of(Cancelled("cancelled before it ran"))
        if self.store.cancel_queued(job_id, self.owner, error, time.time()):
            job = self.get(job_id)  # no runner claimed it: it leaves the queue and never runs
            self._settle(job, State.CANCELLED, Cancelled("cancelled before it ran"))
            self._changed()
            self.announcer.finished(job)
            return job
        # Running on another replica (or claimed a moment ago): its owner cancels it at its next renewal.
        self.store.request_cancel(job_id)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                self.wait_until(lambda: self.get(job_id).state in FINAL), self.settings.cancel_wait_seconds
            )
        return self.get(job_id)

    # Queue

    async def _claim(self) -> Job:
        """The next job for a runner of this replica, waiting for one."""
        while True:
            claim = await asyncio.to_thread(
                self.store.claim, self.owner, time.time(), self.settings.lease_seconds
            )
            if claim is not None:
                job = claim.job
                self._jobs[job.job_id] = job
                if claim.takeovers:
                    log.warning(
                        "job taken over",
                        extra={"job_id": job.job_id, "takeovers": claim.takeovers, "owner": self.owner},
                    )
                if claim.cancel_requested:
                    self._settle(job, State.CANCELLED, Cancelled("the job was cancelled"))
                    self._finish(job, State.CANCELLED, ErrorInfo.of(Cancelled("the job was cancelled")))
                    self._jobs.pop(job.job_id, None)
                    continue
                if claim.takeovers >= self.settings.max_takeovers:
                    lost = BackendUnavailable(
                        f"the job's replica stopped while running it ({claim.takeovers} takeover(s))",
                        details={"job_id": job.job_id, "takeovers": claim.takeovers},
                        suggestion="resubmit the job; if it fails again, check the inference logs",
                    )
                    self._settle(job, State.FAILED, lost)
                    self._finish(job, State.FAILED, ErrorInfo.of(lost))
                    self._jobs.pop(job.job_id, None)
                    continue
                for result in job.results:  # items a previous owner left mid-run start over
                    if result.state == State.RUNNING:
                        result.state = State.QUEUED
                return job
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.settings.poll_seconds)

    async def _keep(self) -> None:
        """Renews the leases of the jobs running here, acts on cancels asked of other replicas, and
        gives up jobs whose lease another replica took; refreshes shared webhooks."""
        while True:
            await asyncio.sleep(self.settings.poll_seconds)
            try:
                if self._running:
                    held = await asyncio.to_thread(
                        self.store.renew, self.owner, time.time() + self.settings.lease_seconds
                    )
                    for job_id, task in list(self._running.items()):
                        if job_id not in held:
                            log.warning("job lease lost", extra={"job_id": job_id, "owner": self.owner})
                            self._lost.add(job_id)
                            task.cancel()
                        elif held[job_id] and job_id not in self._cancelling:
                            self._cancelling.add(job_id)
                            task.cancel()
                if self.store.shared:
                    await asyncio.to_thread(self.hub.refresh)
                    self._changed()
            except Exception:  # a database hiccup: the next round tries again
                log.exception("job lease renewal failed")

    async def _runner(self) -> None:
        while True:
            job = await self._claim()
            task = asyncio.create_task(self._run(job), name=f"job-{job.job_id}")
            self._running[job.job_id] = task
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():  # the runner is stopping: so is its job
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                    raise
                # otherwise the job alone was cancelled (cancel()); the runner takes the next one
            except Exception:
                log.exception("job runner failed", extra={"job_id": job.job_id})
            finally:
                self._running.pop(job.job_id, None)
                self._jobs.pop(job.job_id, None)
                self._lost.discard(job.job_id)

    # Running

    async def _run(self, job: Job) -> None:
        job.state = State.RUNNING
        job.started_at = job.started_at or time.time()
        self._save(job)
        limit = asyncio.Semaphore(job.config.concurrency)
        pending = [r for r in job.results if r.state not in FINAL]
        # The items run as their submitter: billed to it, held to its quota, queued at its priority.
        caller_var.set(job.config.tenant)
        tenant_var.set(Tenant(job.config.tenant_key, job.config.tenant_plan, "job"))
        tasks = [asyncio.create_task(self._item(job, r, limit)) for r in pending]
        remaining = job.config.timeout_seconds - (time.time() - job.started_at)
        try:
            if tasks:
                _done, late = await asyncio.wait(tasks, timeout=max(0.0, remaining))
            else:
                late = set()
        except asyncio.CancelledError:
            await _cancel_all(tasks)
            if job.job_id in self._lost:
                return  # another replica holds it now: nothing more is written from here
            if job.job_id not in self._cancelling:
                raise  # service shutdown: it stays running in the store and resumes at the next start
            self._cancelling.discard(job.job_id)
            self._settle(job, State.CANCELLED, Cancelled("the job was cancelled"))
            self._finish(job, State.CANCELLED, ErrorInfo.of(Cancelled("the job was cancelled")))
            return
        if late:
            await _cancel_all(list(late))
            timeout = DeadlineExceeded(
                f"the job did not finish within its timeout of {job.config.timeout_seconds:g} s",
                details={"timeout": job.config.timeout_seconds},
                suggestion="raise config.timeout or split the job",
            )
            self._settle(job, State.FAILED, timeout)
            self._finish(job, State.FAILED, ErrorInfo.of(timeout))
            return
        if job.succeeded == 0:
            first = next((r.error for r in job.results if r.error), None)
            message = first.message if first and len(job.results) == 1 else "every item of the job failed"
            error = ErrorInfo(first.reason, message, first.details, first.suggestion) if first else None
            self._finish(job, State.FAILED, error)
        else:
            self._finish(job, State.COMPLETED, None)

    def _settle(self, job: Job, state: State, error: MeshError) -> None:
        """Marks every unfinished item with the job's fate."""
        for result in job.results:
            if result.state not in FINAL:
                result.state = state
                result.error = ErrorInfo.of(error)
                self.store.update_item(job.job_id, result, self.owner)

    async def _item(self, job: Job, result: ItemResult, limit: asyncio.Semaphore) -> None:
        spec = job.items[result.index]
        policy = job.config.retry
        async with limit:
            result.state = State.RUNNING
            while True:
                result.attempts += 1
                started = time.perf_counter()
                try:
                    out = await self.generator(spec, f"{job.job_id}-{result.index}-{result.attempts}")
                except MeshError as error:
                    failure: MeshError = error
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a bug below: reported on the item, retried like INTERNAL
                    log.exception("job item failed unexpectedly", extra={"job_id": job.job_id})
                    failure = InternalError(f"unexpected error: {type(exc).__name__}")
                else:
                    result.seconds = round(time.perf_counter() - started, 4)
                    result.state = State.COMPLETED
                    result.error = None
                    result.text, result.model, result.device = out.text, out.model, out.device
                    result.prompt_tokens, result.completion_tokens = out.prompt_tokens, out.completion_tokens
                    result.finish_reason = out.finish_reason
                    break
                result.seconds = round(time.perf_counter() - started, 4)
                if failure.reason in RETRYABLE and policy.allows_retry(result.attempts):
                    self.store.update_item(job.job_id, result, self.owner)
                    await asyncio.sleep(policy.delay(result.attempts))
                    continue
                result.state = State.FAILED
                result.error = ErrorInfo.of(failure)
                break
        if not self.store.update_item(job.job_id, result, self.owner):
            return  # the job moved to another replica, which runs this item again
        self._changed()
        if result.state == State.COMPLETED and self.hub.subscribed("inference.completed"):
            self.hub.emit("inference.completed", inference_event(job, result))

    def _finish(self, job: Job, state: State, error: ErrorInfo | None) -> None:
        job.state = state
        job.error = error
        job.finished_at = time.time()
        if not self._save(job):
            return  # another replica took the job over and finishes it
        self._changed()
        log.info(
            "job finished",
            extra={
                "job_id": job.job_id,
                "status": state.value,
                "succeeded": job.succeeded,
                "failed": job.failed,
                "cancelled": job.cancelled,
            },
        )
        self.announcer.finished(job)

    def _save(self, job: Job) -> bool:
        """Writes the job if this replica still holds it."""
        return self.store.update_job(job, self.owner)


async def _cancel_all(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
