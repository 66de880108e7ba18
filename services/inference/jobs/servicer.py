"""gRPC face of jobs and webhooks (``meshserve.v1.JobService``): message translation only."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from meshserve.v1 import jobs_pb2 as pb
from meshserve.v1 import jobs_pb2_grpc as pb_grpc
from services.common.context import caller_var, tenant_var
from services.common.facts import facts_as_struct, facts_as_text
from services.common.messages import message_from
from services.inference.generation import sampling_from_proto
from services.inference.jobs.analysis import analysis_items
from services.inference.jobs.manager import JobManager
from services.inference.jobs.records import (
    CallbackStatus,
    ErrorInfo,
    ItemResult,
    ItemSpec,
    Job,
    JobConfig,
    RetryPolicy,
    State,
)
from services.inference.jobs.settings import JobSettings
from services.inference.jobs.store import WebhookRecord
from services.inference.jobs.webhooks import WebhookHub
from services.inference.priority import current_priority

STATES = {
    State.QUEUED: pb.JOB_STATE_QUEUED,
    State.RUNNING: pb.JOB_STATE_RUNNING,
    State.COMPLETED: pb.JOB_STATE_COMPLETED,
    State.FAILED: pb.JOB_STATE_FAILED,
    State.CANCELLED: pb.JOB_STATE_CANCELLED,
}
PRIORITY_NAMES = {pb.JOB_PRIORITY_LOW: "low", pb.JOB_PRIORITY_NORMAL: "normal", pb.JOB_PRIORITY_HIGH: "high"}
PRIORITY_ENUMS = {name: value for value, name in PRIORITY_NAMES.items()}
STRATEGY_NAMES = {
    pb.RETRY_STRATEGY_NONE: "none",
    pb.RETRY_STRATEGY_FIXED: "fixed",
    pb.RETRY_STRATEGY_EXPONENTIAL_BACKOFF: "exponential_backoff",
}
STRATEGY_ENUMS = {name: value for value, name in STRATEGY_NAMES.items()}


def config_of(message: pb.JobConfig, settings: JobSettings) -> JobConfig:
    """A JobConfig message with the server defaults filled in."""
    retry = message.retry_policy
    strategy = STRATEGY_NAMES.get(retry.strategy, "exponential_backoff")
    return JobConfig(
        priority=PRIORITY_NAMES.get(message.priority, "normal"),
        retry=RetryPolicy(
            strategy=strategy,
            max_attempts=1 if strategy == "none" else retry.max_attempts or settings.retry_max_attempts,
            initial_backoff=retry.initial_backoff_seconds or settings.retry_initial_backoff_seconds,
            max_backoff=retry.max_backoff_seconds or settings.retry_max_backoff_seconds,
            multiplier=retry.multiplier or 2.0,
        ),
        callback_url=message.callback_url,
        callback_secret=message.callback_secret,
        timeout_seconds=message.timeout_seconds or settings.default_timeout_seconds,
        concurrency=message.concurrency or settings.default_concurrency,
        tenant=caller_var.get(),
        tenant_key=tenant_var.get().api_key_id,
        tenant_plan=tenant_var.get().plan,
        head_start_seconds=current_priority() * settings.priority_aging_seconds,
    )


def _timestamp(ts: float | None) -> Timestamp | None:
    if ts is None:
        return None
    stamp = Timestamp()
    stamp.FromNanoseconds(int(ts * 1e9))
    return stamp


def error_message(error: ErrorInfo | None) -> pb.JobError | None:
    """A recorded error as a JobError message."""
    if error is None:
        return None
    return pb.JobError(
        reason=error.reason,
        message=error.message,
        details=facts_as_text(error.details),
        suggestion=error.suggestion,
        facts=facts_as_struct(error.details),
    )


def result_message(result: ItemResult) -> pb.JobItemResult:
    """One item's outcome as a message."""
    return message_from(
        pb.JobItemResult, result, state=STATES[result.state], error=error_message(result.error)
    )


def callback_message(callback: CallbackStatus | None) -> pb.CallbackStatus | None:
    """Callback delivery as a message."""
    if callback is None:
        return None
    return message_from(pb.CallbackStatus, callback)


def job_message(job: Job, queue_position: int = 0) -> pb.Job:
    """A job as a message."""
    config = job.config
    return pb.Job(
        job_id=job.job_id,
        job_type=job.job_type,
        state=STATES[job.state],
        priority=PRIORITY_ENUMS[config.priority],
        progress=message_from(pb.JobProgress, job, total=len(job.results)),
        results=[result_message(r) for r in job.results],
        error=error_message(job.error),
        created_at=_timestamp(job.created_at),
        started_at=_timestamp(job.started_at),
        finished_at=_timestamp(job.finished_at),
        config=pb.JobConfig(
            priority=PRIORITY_ENUMS[config.priority],
            retry_policy=pb.RetryPolicy(
                strategy=STRATEGY_ENUMS[config.retry.strategy],
                max_attempts=config.retry.max_attempts,
                initial_backoff_seconds=config.retry.initial_backoff,
                max_backoff_seconds=config.retry.max_backoff,
                multiplier=config.retry.multiplier,
            ),
            callback_url=config.callback_url,
            timeout_seconds=config.timeout_seconds,
            concurrency=config.concurrency,
        ),
        callback=callback_message(job.callback),
        queue_position=queue_position,
    )


def webhook_message(hook: WebhookRecord) -> pb.Webhook:
    """A webhook as a message (never its secret)."""
    return message_from(pb.Webhook, hook, created_at=_timestamp(hook.created_at))


@dataclass(eq=False)
class JobServicer(pb_grpc.JobServiceServicer):
    """Translates JobService calls to the job manager and webhook hub."""

    manager: JobManager
    hub: WebhookHub
    settings: JobSettings

    async def SubmitJob(
        self, request: pb.SubmitJobRequest, context: grpc.aio.ServicerContext
    ) -> pb.SubmitJobResponse:
        """Validates and queues a job."""
        items = [
            ItemSpec(model=i.model.name, prompt=i.prompt, sampling=sampling_from_proto(i.sampling).to_json())
            for i in request.items
        ]
        if request.job_type == "document_analysis":
            analysis = request.document_analysis
            items = analysis_items(
                list(analysis.documents), analysis.analysis_type, analysis.model.name, list(analysis.labels)
            )
        job = self.manager.submit(request.job_type, items, config_of(request.config, self.settings))
        return pb.SubmitJobResponse(job=job_message(job, self.manager.queue_position(job)))

    async def GetJob(self, request: pb.GetJobRequest, context: grpc.aio.ServicerContext) -> pb.GetJobResponse:
        """A job's state, progress and results."""
        job = self.manager.get(request.job_id)
        return pb.GetJobResponse(job=job_message(job, self.manager.queue_position(job)))

    async def CancelJob(
        self, request: pb.CancelJobRequest, context: grpc.aio.ServicerContext
    ) -> pb.CancelJobResponse:
        """Cancels a job that has not finished."""
        return pb.CancelJobResponse(job=job_message(await self.manager.cancel(request.job_id)))

    async def RegisterWebhook(
        self, request: pb.RegisterWebhookRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterWebhookResponse:
        """Stores a webhook."""
        hook, generated = self.hub.register(
            request.url, list(request.events), request.secret, request.retry_count, request.timeout_seconds
        )
        return pb.RegisterWebhookResponse(webhook=webhook_message(hook), generated_secret=generated)

    async def ListWebhooks(
        self, request: pb.ListWebhooksRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListWebhooksResponse:
        """Every webhook."""
        return pb.ListWebhooksResponse(webhooks=[webhook_message(h) for h in self.hub.list()])

    async def DeleteWebhook(
        self, request: pb.DeleteWebhookRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteWebhookResponse:
        """Removes a webhook."""
        self.hub.delete(request.webhook_id)
        return pb.DeleteWebhookResponse()
