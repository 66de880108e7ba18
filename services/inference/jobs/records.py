"""The typed job model: what a job asks for, how it runs and what came of each item.

Plain dataclasses with JSON round trips (for the SQLite store and webhook payloads); no transport.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from services.common.errors import MeshError, Reason, reason_name


class State(StrEnum):
    """Lifecycle of a job and of each item."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL = frozenset({State.COMPLETED, State.FAILED, State.CANCELLED})

#: Queue rank of each priority: higher runs first.
PRIORITIES: dict[str, int] = {"low": 1, "normal": 2, "high": 3}

#: Job types that run here: 003's batch/create ("batch") and job/submit's generation types.
JOB_TYPES: tuple[str, ...] = ("batch", "batch_inference", "text_generation", "document_analysis")

#: Job types whose end is also announced as ``batch.finished``.
BATCH_TYPES = frozenset({"batch", "batch_inference", "document_analysis"})

RETRY_STRATEGIES: tuple[str, ...] = ("none", "fixed", "exponential_backoff")

#: Reasons worth another attempt: the backend may recover; bad input or unknown models will not.
RETRYABLE = frozenset(
    {
        Reason.REASON_BACKEND_UNAVAILABLE,
        Reason.REASON_INSUFFICIENT_MEMORY,
        Reason.REASON_INFERENCE_FAILED,
        Reason.REASON_INTERNAL,
        Reason.REASON_RATE_LIMIT_EXCEEDED,
        Reason.REASON_DEADLINE_EXCEEDED,
        Reason.REASON_MODEL_LOAD_FAILED,
    }
)


def iso(ts: float | None) -> str | None:
    """Unix time as ISO 8601 UTC, or None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ErrorInfo:
    """A canonical error frozen into a record."""

    reason: Reason
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    suggestion: str = ""

    @classmethod
    def of(cls, error: MeshError) -> ErrorInfo:
        """The record of a raised canonical error."""
        return cls(error.reason, error.message, dict(error.details), error.suggestion)

    @property
    def code(self) -> str:
        """Documented reason code."""
        return reason_name(self.reason)

    def to_json(self) -> dict[str, Any]:
        """JSON form (003's error object plus the numeric reason)."""
        return {
            "code": self.code,
            "reason": self.reason,
            "message": self.message,
            "details": self.details,
            "suggestion": self.suggestion,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ErrorInfo | None:
        """Inverse of :meth:`to_json`."""
        if not data:
            return None
        return cls(
            Reason.ValueType(int(data["reason"])),
            data["message"],
            dict(data.get("details") or {}),
            data.get("suggestion", ""),
        )


@dataclass(frozen=True)
class RetryPolicy:
    """How failed items are retried; ``max_attempts`` counts the first attempt."""

    strategy: str = "exponential_backoff"
    max_attempts: int = 3
    initial_backoff: float = 1.0
    max_backoff: float = 30.0
    multiplier: float = 2.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), with equal jitter.

        Half the nominal delay is fixed and half random, so retries of many items spread out
        without ever retrying sooner than half the schedule.
        """
        if self.strategy == "none":
            return 0.0
        if self.strategy == "fixed":
            nominal = self.initial_backoff
        else:
            nominal = self.initial_backoff * self.multiplier ** (attempt - 1)
        nominal = min(nominal, self.max_backoff)
        return nominal / 2 + (rng or random).uniform(0, nominal / 2)

    def allows_retry(self, attempt: int) -> bool:
        """Whether another attempt may follow attempt number ``attempt``."""
        return self.strategy != "none" and attempt < self.max_attempts


@dataclass(frozen=True)
class JobConfig:
    """How a job runs, defaults filled in."""

    priority: str = "normal"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    callback_url: str = ""
    callback_secret: str = ""
    timeout_seconds: float = 3600.0
    concurrency: int = 4
    #: Who submitted it: its items are billed to that tenant and held to its quota, wherever they run.
    tenant: str = ""
    tenant_key: str = ""
    tenant_plan: str = "anonymous"
    #: Seconds ahead its submitter's plan puts it among jobs of its priority level.
    head_start_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """JSON form (for the store)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobConfig:
        """Inverse of :meth:`to_json`."""
        return cls(**{**data, "retry": RetryPolicy(**data["retry"])})


@dataclass(frozen=True)
class ItemSpec:
    """One text generation to run: model, prompt, sampling in canonical terms."""

    model: str
    prompt: str
    sampling: dict[str, Any] = field(default_factory=dict)


@dataclass
class ItemResult:
    """What came of one item so far."""

    index: int
    model: str
    state: State = State.QUEUED
    text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = ""
    seconds: float = 0.0
    attempts: int = 0
    device: str = ""
    error: ErrorInfo | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        data = asdict(self)
        data["state"] = self.state.value
        data["error"] = self.error.to_json() if self.error else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ItemResult:
        """Inverse of :meth:`to_json`."""
        return cls(**{**data, "state": State(data["state"]), "error": ErrorInfo.from_json(data.get("error"))})


@dataclass
class CallbackStatus:
    """Delivery of a job's completion POST."""

    url: str
    delivered: bool = False
    attempts: int = 0
    last_status_code: int = 0
    last_error: str = ""


@dataclass
class Job:
    """A job and everything known about it."""

    job_id: str
    job_type: str
    config: JobConfig
    items: list[ItemSpec]
    results: list[ItemResult]
    state: State = State.QUEUED
    error: ErrorInfo | None = None
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    callback: CallbackStatus | None = None
    seq: int = 0

    @property
    def done(self) -> int:
        """Items finished, succeeded or not."""
        return sum(1 for r in self.results if r.state in FINAL)

    @property
    def succeeded(self) -> int:
        """Items that succeeded."""
        return sum(1 for r in self.results if r.state == State.COMPLETED)

    @property
    def failed(self) -> int:
        """Items that ran and failed (a timed-out job's unfinished items too)."""
        return sum(1 for r in self.results if r.state == State.FAILED)

    @property
    def cancelled(self) -> int:
        """Items the job's cancel ended or kept from running."""
        return sum(1 for r in self.results if r.state == State.CANCELLED)

    @property
    def percent(self) -> float:
        """done / total in percent."""
        return round(100.0 * self.done / len(self.results), 2) if self.results else 100.0

    def snapshot(self) -> dict[str, Any]:
        """The job as JSON: the webhook and callback payload's ``data``."""
        return {
            "job_id": self.job_id,
            "job_type": self.job_type,
            "status": self.state.value,
            "priority": self.config.priority,
            "progress": {
                "total": len(self.results),
                "completed": self.done,
                "succeeded": self.succeeded,
                "failed": self.failed,
                "cancelled": self.cancelled,
                "percent": self.percent,
            },
            "results": [r.to_json() for r in self.results],
            "error": self.error.to_json() if self.error else None,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at),
            "completed_at": iso(self.finished_at),
        }


@dataclass(frozen=True)
class Generated:
    """One finished generation."""

    text: str
    model: str
    device: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = ""


class Generator(Protocol):
    """Runs one text generation (the inference service's language models)."""

    def __call__(self, item: ItemSpec, request_id: str) -> Awaitable[Generated]:
        """The whole generation, or a MeshError."""
        ...
