"""Settings of the inference service (``MESHSERVE_INFERENCE_*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import (
    DATABASE_SCHEMES,
    DEFAULT_PORTS,
    REDIS_SCHEMES,
    ServiceSettings,
    database_url_setting,
    redis_url_setting,
    url_scheme_validator,
)

_ENV_PREFIX = "MESHSERVE_INFERENCE_"


class InferenceSettings(ServiceSettings):
    """Inference process settings."""

    model_config = SettingsConfigDict(env_prefix=_ENV_PREFIX, extra="ignore")

    port: int = Field(DEFAULT_PORTS["inference"], description="gRPC port.")
    event_loop: Literal["asyncio", "uvloop"] = Field(
        "uvloop",
        description="Event loop of the inference service: uvloop by default, since every prediction"
        " runs through it (in alternating benchmark runs it took 0.06-0.09 ms off a REST prediction's"
        " p50 and 7-8% of this service's CPU per prediction); asyncio is the standard library's.",
    )
    database_url: str = database_url_setting(
        _ENV_PREFIX,
        "postgresql://… keeps jobs, webhooks and plugin settings in PostgreSQL, shared by "
        "every replica (also read from DATABASE_URL); sqlite:///path or empty: a SQLite file of this "
        "replica.",
    )
    redis_url: str = redis_url_setting(
        _ENV_PREFIX,
        "redis://… shares the response cache between replicas (also read from REDIS_URL); "
        "empty: a cache per process.",
    )
    workers: int = Field(1, ge=0, description="Triton workers started with the service.")
    registry_stale_seconds: float = Field(
        300.0,
        ge=0,
        description="While the registry cannot answer, a model's look-up up to this old is used, so "
        "models already serving go on serving through a registry restart.",
    )
    deleted_model_sweep_seconds: float = Field(
        10.0,
        ge=0,
        description="How often this replica asks the registry about the models it holds and unloads "
        "those deleted there (through any replica, or the registry directly). 0: never.",
    )
    stored_generation_days: float = Field(
        30.0,
        gt=0,
        description="How long a stored generation (the Responses API's stored response) is kept.",
    )
    max_in_flight_per_model: int = Field(
        128,
        ge=0,
        description="Tensor requests one model takes at once (waiting for a worker included); one more "
        "is refused at once with 429 and Retry-After. 0: unbounded.",
    )
    max_workers: int = Field(
        8,
        ge=1,
        description="The most Triton workers the service will run (each is a process holding its models); "
        "scaling past it is refused.",
    )
    model_threads: int = Field(1, ge=1, description="CPU threads each model instance may use.")
    worker_start_timeout_seconds: float = Field(
        60.0, description="How long a tritonserver may take to start."
    )
    worker_wait_seconds: float = Field(
        120.0, description="How long a request waits for a worker when none is ready (startup, replacement)."
    )
    memory_budget_mb: int = Field(
        0,
        ge=0,
        description="Resident memory every loaded model together may hold, in MB (0: no budget). A load"
        " that would exceed it unloads the least recently used idle models first.",
    )
    default_device: str = Field(
        "auto",
        pattern="^(auto|cpu|cuda)$",
        description="Device a tensor model is placed on when its load names none: auto, cpu or cuda.",
    )
    max_batch_size: int = Field(32, ge=0, description="Default Triton max batch size; 0 disables batching.")
    preferred_batch_sizes: list[int] = Field(
        default_factory=lambda: [8, 16, 32], description="Default batch sizes Triton prefers to form."
    )
    max_queue_delay_microseconds: int = Field(
        500, ge=0, description="Default time a request may wait for a batch to fill, in microseconds."
    )
    triton_max_queue_size: int = Field(
        0,
        ge=0,
        description="Requests a tensor model's Triton dynamic batcher queues per worker and priority level; "
        "one more is rejected by Triton and answered 429 with Retry-After. 0: no Triton queue bound (the "
        "service's own max_in_flight_per_model still bounds each model). Any bound gives the batcher a "
        "queue policy, with which the bundled Triton at times stalls a batch for 500 ms.",
    )
    triton_priority: bool = Field(
        False,
        description="Order each tensor model's Triton batcher queue by the caller's plan (enterprise, then "
        "pro, then the rest). Off by default: with priority levels the bundled Triton's batcher at times "
        "stalls a batch for 500 ms.",
    )
    request_timeout_seconds: float = Field(60.0, description="Deadline of one request to a worker.")
    benchmark_budget_seconds: float = Field(
        60.0,
        gt=0,
        description="Longest a benchmark run (003's benchmark/run) measures; then it stops and reports "
        "what it measured, marked truncated. A shorter budget may come with the request.",
    )
    utilization_window_seconds: float = Field(
        10.0,
        gt=0,
        description="Trailing window over which a worker's utilisation (busy fraction) is measured.",
    )

    metering_enabled: bool = Field(
        True,
        description="Record every generation (tokens) and prediction (input elements) with the auth service, and "
        "hold signed-in tenants "
        "to their plan's monthly token quota and their spending limit.",
    )
    metering_flush_seconds: float = Field(
        0.2, gt=0, description="How often usage records are sent to the auth service, in batches."
    )
    metering_batch_size: int = Field(500, gt=0, description="Most usage records sent in one call.")
    metering_queue_size: int = Field(
        100_000, gt=0, description="Usage records kept while the auth service is unreachable."
    )

    _database_scheme = url_scheme_validator("database_url", DATABASE_SCHEMES)
    _redis_scheme = url_scheme_validator("redis_url", REDIS_SCHEMES)
