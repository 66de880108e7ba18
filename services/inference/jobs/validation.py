"""Checks of a job submission before anything is queued: type, items, priority, callback URL,
timeout, concurrency and retry policy, each refusal naming the field at fault."""

from __future__ import annotations

from collections.abc import Callable

from services.common.errors import InvalidInput
from services.inference.jobs.records import JOB_TYPES, PRIORITIES, ItemSpec, JobConfig
from services.inference.jobs.settings import JobSettings
from services.inference.jobs.webhooks import validate_url

#: What each job type's input_data holds (the error for an empty job says it).
NEEDS = {
    "text_generation": "input_data.prompt, or input_data.prompts (a list)",
    "batch_inference": "input_data.requests (a list of inference requests)",
    "batch": "requests (a list of inference requests)",
    "document_analysis": "input_data.documents (their text) and input_data.analysis_type",
}

#: Checks an item before it is queued (sampling ranges, prompt length); raises InvalidInput.
Validator = Callable[[ItemSpec], None]


def validate_submission(
    job_type: str,
    items: list[ItemSpec],
    config: JobConfig,
    settings: JobSettings,
    validate_item: Validator | None = None,
) -> None:
    """Refuses a job that cannot run as asked, with InvalidInput naming the field at fault."""
    if job_type not in JOB_TYPES:
        raise InvalidInput(
            f"job_type {job_type!r} is not supported",
            details={"field": "job_type", "provided": job_type, "supported": list(JOB_TYPES)},
            suggestion="use one of the supported job types listed in details",
        )
    if not items:
        raise InvalidInput(
            "the job has no requests",
            details={"field": "input_data", "needs": NEEDS.get(job_type, "requests")},
            suggestion=f"a {job_type} job takes {NEEDS.get(job_type, 'requests')}",
        )
    if len(items) > settings.max_items:
        raise InvalidInput(
            f"the job has {len(items)} requests; at most {settings.max_items} are accepted",
            details={"field": "requests", "max": settings.max_items, "provided": len(items)},
            suggestion="split the work into several jobs",
        )
    for position, item in enumerate(items):
        if not item.prompt:
            raise InvalidInput(
                f"requests[{position}].prompt is empty", details={"field": f"requests[{position}].prompt"}
            )
        if validate_item is not None:
            try:
                validate_item(item)
            except InvalidInput as error:
                field = error.details.get("field", "")
                error.details["field"] = f"requests[{position}].{field}" if field else f"requests[{position}]"
                raise
    if config.priority not in PRIORITIES:
        raise InvalidInput(
            f"priority {config.priority!r} is not one of {', '.join(PRIORITIES)}",
            details={"field": "config.priority", "supported": list(PRIORITIES)},
        )
    if config.callback_url:
        validate_url(config.callback_url, "config.callback_url", settings.destinations)
    if not 0 < config.timeout_seconds <= settings.max_timeout_seconds:
        raise InvalidInput(
            f"timeout must be in (0, {settings.max_timeout_seconds:g}] seconds",
            details={"field": "config.timeout", "max": settings.max_timeout_seconds},
        )
    if not 1 <= config.concurrency <= settings.max_concurrency:
        raise InvalidInput(
            f"batch_size must be 1 to {settings.max_concurrency}",
            details={"field": "config.batch_size", "max": settings.max_concurrency},
        )
    retry = config.retry
    if not 1 <= retry.max_attempts <= settings.max_attempts_limit:
        raise InvalidInput(
            f"retry_policy allows 1 to {settings.max_attempts_limit} attempts",
            details={
                "field": "config.retry_policy.max_retries",
                "max": settings.max_attempts_limit - 1,
            },
        )
    if retry.initial_backoff < 0 or retry.max_backoff < 0 or retry.multiplier < 1:
        raise InvalidInput(
            "retry_policy delays must be ≥ 0 and its multiplier ≥ 1",
            details={"field": "config.retry_policy"},
        )
