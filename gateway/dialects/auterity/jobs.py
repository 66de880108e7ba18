"""Document 003's job group: ``POST /api/ai/advanced/batch/create``, ``POST /api/ai/advanced/job/submit``,
``GET /api/ai/advanced/job/{job_id}/status`` and ``POST /api/ai/webhooks/register`` (plus
meshserve's ``POST …/job/{job_id}/cancel``, ``GET /api/ai/webhooks`` and
``DELETE /api/ai/webhooks/{webhook_id}``).

Translation only: queueing, retries, timeouts, progress and deliveries are the inference
process's ``JobService``; which job types run and which events exist is decided there.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.auterity.inference import InferenceRequest
from gateway.dialects.auterity.job_inputs import document_analysis, input_items, job_item
from gateway.dialects.auterity.responses import stamped
from gateway.request_id import request_id_of
from meshserve.grpc import facts_of
from meshserve.v1 import jobs_pb2 as pb
from services.common.errors import reason_name

router = dialect_router("auterity", "auterity")

PRIORITIES = {"low": pb.JOB_PRIORITY_LOW, "normal": pb.JOB_PRIORITY_NORMAL, "high": pb.JOB_PRIORITY_HIGH}
PRIORITY_NAMES = {v: k for k, v in PRIORITIES.items()}
STRATEGIES = {
    "none": pb.RETRY_STRATEGY_NONE,
    "fixed": pb.RETRY_STRATEGY_FIXED,
    "exponential_backoff": pb.RETRY_STRATEGY_EXPONENTIAL_BACKOFF,
}
STRATEGY_NAMES = {v: k for k, v in STRATEGIES.items()}
STATES = {
    pb.JOB_STATE_QUEUED: "queued",
    pb.JOB_STATE_RUNNING: "running",
    pb.JOB_STATE_COMPLETED: "completed",
    pb.JOB_STATE_FAILED: "failed",
    pb.JOB_STATE_CANCELLED: "cancelled",
}


class RetryPolicyBody(BaseModel):
    """The object form of ``retry_policy`` (003 shows the string form: ``"exponential_backoff"``)."""

    model_config = ConfigDict(extra="forbid")

    strategy: Literal["none", "fixed", "exponential_backoff"] = Field("exponential_backoff")
    max_retries: StrictInt | None = Field(None, ge=0, description="Retries after the first attempt.")
    initial_delay: StrictFloat | None = Field(None, ge=0, description="Seconds before the first retry.")
    max_delay: StrictFloat | None = Field(None, ge=0, description="Longest delay between attempts, seconds.")
    multiplier: StrictFloat | None = Field(None, ge=1, description="Delay growth per retry (exponential).")


class JobConfigBody(BaseModel):
    """``config`` of batch/create and job/submit."""

    batch_size: StrictInt | None = Field(None, ge=1, description="Items generated at the same time.")
    priority: Literal["low", "normal", "high"] = Field("normal", description="Queue priority.")
    retry_policy: Literal["none", "fixed", "exponential_backoff"] | RetryPolicyBody | None = Field(
        None, description="How failed items are retried (transient failures only)."
    )
    callback_url: str | None = Field(None, description="Receives a POST with the final job.")
    callback_secret: str | None = Field(None, description="Signs the callback POST (X-Webhook-Signature).")
    timeout: StrictFloat | None = Field(None, gt=0, description="Seconds the job may run.")


class BatchCreateRequest(BaseModel):
    """Body of ``POST /api/ai/advanced/batch/create``."""

    requests: list[InferenceRequest] = Field(..., min_length=1, description="Text-generation requests.")
    config: JobConfigBody = Field(default_factory=JobConfigBody)


class JobSubmitRequest(BaseModel):
    """Body of ``POST /api/ai/advanced/job/submit``.

    ``input_data``: ``{"model_id", "prompt" or "prompts", "parameters"}`` for ``text_generation``;
    ``{"requests": [...]}`` for ``batch_inference``; ``{"documents", "analysis_type", "labels"}`` for
    ``document_analysis``.
    """

    job_type: str = Field(
        ..., min_length=1, description="text_generation, batch_inference, batch or document_analysis."
    )
    input_data: dict[str, Any] = Field(default_factory=dict, description="The job's input.")
    config: JobConfigBody = Field(default_factory=JobConfigBody)


class WebhookConfigBody(BaseModel):
    """``config`` of a webhook."""

    retry_count: StrictInt = Field(3, ge=0, description="Redeliveries after a failure.")
    timeout: StrictFloat | None = Field(None, gt=0, description="Seconds one delivery may take.")


class WebhookRegisterRequest(BaseModel):
    """Body of ``POST /api/ai/webhooks/register``."""

    url: str = Field(..., min_length=1, description="http(s) URL receiving the POSTs.")
    events: list[str] = Field(..., min_length=1, description="Events to receive.")
    secret: str | None = Field(
        None, description="HMAC-SHA256 key of X-Webhook-Signature; generated when absent."
    )
    config: WebhookConfigBody = Field(default_factory=WebhookConfigBody)


def _config(body: JobConfigBody) -> pb.JobConfig:
    retry = body.retry_policy
    if isinstance(retry, str):
        policy = pb.RetryPolicy(strategy=STRATEGIES[retry])
    elif retry is not None:
        policy = pb.RetryPolicy(
            strategy=STRATEGIES[retry.strategy],
            max_attempts=retry.max_retries + 1 if retry.max_retries is not None else 0,
            initial_backoff_seconds=retry.initial_delay or 0.0,
            max_backoff_seconds=retry.max_delay or 0.0,
            multiplier=retry.multiplier or 0.0,
        )
    else:
        policy = pb.RetryPolicy()
    return pb.JobConfig(
        priority=PRIORITIES[body.priority],
        retry_policy=policy,
        callback_url=body.callback_url or "",
        callback_secret=body.callback_secret or "",
        timeout_seconds=body.timeout or 0.0,
        concurrency=body.batch_size or 0,
    )


def _iso(stamp: Timestamp, present: bool) -> str | None:
    return stamp.ToDatetime().isoformat(timespec="milliseconds") + "Z" if present else None


def _error(error: pb.JobError) -> dict[str, Any]:
    return {
        "code": reason_name(error.reason),
        "message": error.message,
        "details": facts_of(error.facts, error.details),
        "suggestion": error.suggestion,
    }


def job_body(job: pb.Job) -> dict[str, Any]:
    """A job in 003's terms."""
    retry = job.config.retry_policy
    return {
        "job_id": job.job_id,
        "job_type": job.job_type,
        "status": STATES.get(job.state, "unknown"),
        "priority": PRIORITY_NAMES.get(job.priority, "normal"),
        "progress": {
            "total": job.progress.total,
            "completed": job.progress.done,
            "succeeded": job.progress.succeeded,
            "failed": job.progress.failed,
            "cancelled": job.progress.cancelled,
            "percent": job.progress.percent,
        },
        "queue_position": job.queue_position,
        "results": [
            {
                "index": r.index,
                "status": STATES.get(r.state, "unknown"),
                "success": r.state == pb.JOB_STATE_COMPLETED,
                "model_id": r.model,
                "response": r.text if r.state == pb.JOB_STATE_COMPLETED else None,
                "tokens_used": r.prompt_tokens + r.completion_tokens,
                "metadata": {
                    "prompt_tokens": r.prompt_tokens,
                    "completion_tokens": r.completion_tokens,
                    "finish_reason": r.finish_reason,
                    "device": r.device,
                },
                "processing_time": r.seconds,
                "attempts": r.attempts,
                "error": _error(r.error) if r.HasField("error") else None,
            }
            for r in job.results
        ],
        "error": _error(job.error) if job.HasField("error") else None,
        "config": {
            "batch_size": job.config.concurrency,
            "priority": PRIORITY_NAMES.get(job.config.priority, "normal"),
            "retry_policy": {
                "strategy": STRATEGY_NAMES.get(retry.strategy, "exponential_backoff"),
                "max_retries": max(0, retry.max_attempts - 1),
                "initial_delay": retry.initial_backoff_seconds,
                "max_delay": retry.max_backoff_seconds,
                "multiplier": retry.multiplier,
            },
            "callback_url": job.config.callback_url or None,
            "timeout": job.config.timeout_seconds,
        },
        "callback": {
            "url": job.callback.url,
            "delivered": job.callback.delivered,
            "attempts": job.callback.attempts,
            "last_status_code": job.callback.last_status_code or None,
            "last_error": job.callback.last_error or None,
        }
        if job.HasField("callback")
        else None,
        "created_at": _iso(job.created_at, job.HasField("created_at")),
        "started_at": _iso(job.started_at, job.HasField("started_at")),
        "completed_at": _iso(job.finished_at, job.HasField("finished_at")),
    }


def _accepted(job: pb.Job, request: Request, **extra: Any) -> JSONResponse:
    body = {
        **extra,
        "job_id": job.job_id,
        "status": STATES.get(job.state, "queued"),
        "total": job.progress.total,
        "priority": PRIORITY_NAMES.get(job.priority, "normal"),
        "queue_position": job.queue_position,
        "status_url": f"/api/ai/advanced/job/{job.job_id}/status",
        "created_at": _iso(job.created_at, job.HasField("created_at")),
    }
    return stamped(request, body, 202, headers={"Location": body["status_url"]})


@router.post("/api/ai/advanced/batch/create", summary="Create a batch job (document 003)", status_code=202)
async def batch_create(body: BatchCreateRequest, request: Request, clients: Clients) -> JSONResponse:
    """Queues the requests as one job; poll its status or wait for the callback."""
    reply = await clients.call(
        clients.jobs.SubmitJob,
        pb.SubmitJobRequest(
            job_type="batch",
            items=[job_item(r) for r in body.requests],
            config=_config(body.config),
            request_id=request_id_of(request),
        ),
    )
    return _accepted(reply.job, request, batch_id=reply.job.job_id)


@router.post(
    "/api/ai/advanced/job/submit", summary="Submit an asynchronous job (document 003)", status_code=202
)
async def job_submit(body: JobSubmitRequest, request: Request, clients: Clients) -> JSONResponse:
    """Queues a job of a supported type."""
    submission = pb.SubmitJobRequest(
        job_type=body.job_type, config=_config(body.config), request_id=request_id_of(request)
    )
    if body.job_type == "document_analysis":
        submission.document_analysis.CopyFrom(document_analysis(body.input_data))
    else:
        submission.items.extend(input_items(body.input_data))
    reply = await clients.call(clients.jobs.SubmitJob, submission)
    return _accepted(reply.job, request, job_type=reply.job.job_type)


@router.get("/api/ai/advanced/job/{job_id}/status", summary="Job status, progress and results (document 003)")
async def job_status(job_id: str, request: Request, clients: Clients) -> JSONResponse:
    """The job now."""
    reply = await clients.call(clients.jobs.GetJob, pb.GetJobRequest(job_id=job_id), idempotent=True)
    return stamped(request, job_body(reply.job))


@router.post(
    "/api/ai/advanced/job/{job_id}/cancel", summary="Cancel a job (meshserve addition to document 003)"
)
async def job_cancel(job_id: str, request: Request, clients: Clients) -> JSONResponse:
    """Cancels a queued or running job; 409 when it already finished."""
    reply = await clients.call(clients.jobs.CancelJob, pb.CancelJobRequest(job_id=job_id))
    return stamped(request, job_body(reply.job))


def _webhook_body(hook: pb.Webhook) -> dict[str, Any]:
    return {
        "webhook_id": hook.webhook_id,
        "url": hook.url,
        "events": list(hook.events),
        "config": {"retry_count": hook.retry_count, "timeout": hook.timeout_seconds},
        "deliveries": {"delivered": hook.delivered, "failed": hook.failed},
        "created_at": _iso(hook.created_at, hook.HasField("created_at")),
    }


@router.post("/api/ai/webhooks/register", summary="Register a webhook (document 003)", status_code=201)
async def webhooks_register(body: WebhookRegisterRequest, request: Request, clients: Clients) -> JSONResponse:
    """Stores the webhook; deliveries carry X-Webhook-Signature: sha256=HMAC(secret, body)."""
    reply = await clients.call(
        clients.jobs.RegisterWebhook,
        pb.RegisterWebhookRequest(
            url=body.url,
            events=body.events,
            secret=body.secret or "",
            retry_count=body.config.retry_count,
            timeout_seconds=body.config.timeout or 0.0,
        ),
    )
    result = {
        **_webhook_body(reply.webhook),
        "signature_header": "X-Webhook-Signature",
    }
    if reply.generated_secret:
        result["secret"] = reply.generated_secret  # shown once
    return stamped(request, result, 201)


@router.get("/api/ai/webhooks", summary="List webhooks (meshserve)")
async def webhooks_list(request: Request, clients: Clients) -> JSONResponse:
    """Every webhook, never its secret."""
    reply = await clients.call(clients.jobs.ListWebhooks, pb.ListWebhooksRequest(), idempotent=True)
    return stamped(request, {"webhooks": [_webhook_body(h) for h in reply.webhooks]})


@router.delete("/api/ai/webhooks/{webhook_id}", summary="Remove a webhook (meshserve)")
async def webhooks_delete(webhook_id: str, request: Request, clients: Clients) -> JSONResponse:
    """Removes the webhook."""
    await clients.call(clients.jobs.DeleteWebhook, pb.DeleteWebhookRequest(webhook_id=webhook_id))
    return JSONResponse({"deleted": True, "webhook_id": webhook_id, "request_id": request_id_of(request)})
