"""What a finished job tells the world: its webhook events and its callback, sent by the one
replica that finished it (the callback's outcome is saved on the job)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from services.inference.jobs.records import BATCH_TYPES, ItemResult, Job, State
from services.inference.jobs.webhooks import WebhookHub


class Announcer:
    """Sends a finished job's events and callback."""

    def __init__(self, hub: WebhookHub, save: Callable[[Job], bool]) -> None:
        self.hub = hub
        self.save = save

    def finished(self, job: Job) -> None:
        """Sends a finished job's events and callback (from the one replica that finished it)."""
        data = job.snapshot()
        event = {State.COMPLETED: "job.completed", State.FAILED: "job.failed"}.get(job.state, "job.cancelled")
        self.hub.emit(event, data)
        if job.job_type in BATCH_TYPES:
            self.hub.emit("batch.finished", data)
        if job.callback is not None:
            task = self.hub.callback(job.callback.url, job.config.callback_secret, event, data)
            task.add_done_callback(lambda t: self._record_callback(job, t))

    def _record_callback(self, job: Job, task: asyncio.Task[Any]) -> None:
        if task.cancelled() or task.exception() is not None or job.callback is None:
            return
        outcome = task.result()
        job.callback.delivered = outcome.delivered
        job.callback.attempts = outcome.attempts
        job.callback.last_status_code = outcome.status_code
        job.callback.last_error = outcome.error
        self.save(job)


def inference_event(job: Job, result: ItemResult) -> dict[str, Any]:
    """Payload of ``inference.completed`` for one job item."""
    return {
        "source": "job",
        "job_id": job.job_id,
        "index": result.index,
        "model_id": result.model,
        "response": result.text,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "finish_reason": result.finish_reason,
        "processing_time": result.seconds,
    }
