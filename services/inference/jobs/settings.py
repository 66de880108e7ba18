"""Settings of jobs and webhooks in the inference service (``MESHSERVE_INFERENCE_JOBS_*``)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.destinations import Destinations


class JobSettings(BaseSettings):
    """Queue, limits, retry defaults and webhook delivery."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_INFERENCE_JOBS_", extra="ignore")

    runners: int = Field(
        2, ge=1, description="Jobs that run at the same time; the rest wait in priority order."
    )
    default_concurrency: int = Field(
        4, ge=1, description="Items of one job generated at the same time by default."
    )
    max_concurrency: int = Field(
        64, ge=1, description="Largest per-job concurrency (003 batch_size) accepted."
    )
    max_items: int = Field(1000, ge=1, description="Most items one job may hold.")
    default_timeout_seconds: float = Field(
        3600.0, gt=0, description="Job timeout when the request sets none."
    )
    max_timeout_seconds: float = Field(86400.0, gt=0, description="Longest job timeout accepted.")
    retry_max_attempts: int = Field(3, ge=1, description="Attempts per item (first included) by default.")
    retry_initial_backoff_seconds: float = Field(
        1.0, ge=0, description="Default delay before an item's first retry."
    )
    retry_max_backoff_seconds: float = Field(
        30.0, ge=0, description="Default cap of the delay between item attempts."
    )
    max_attempts_limit: int = Field(
        10, ge=1, description="Most attempts per item a retry policy may ask for."
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="Default time one webhook delivery may take."
    )
    webhook_max_timeout_seconds: float = Field(
        60.0, gt=0, description="Longest per-delivery timeout accepted."
    )
    webhook_max_retries: int = Field(10, ge=0, description="Most delivery retries a webhook may ask for.")
    webhook_backoff_seconds: float = Field(
        1.0, ge=0, description="Delay before the first redelivery; doubles per retry, capped at 60 s."
    )
    callback_retries: int = Field(
        3, ge=0, description="Retries of a job's callback_url POST after a failure."
    )
    poll_seconds: float = Field(
        0.5,
        gt=0,
        description="How often a replica looks for jobs submitted elsewhere, renews its leases and "
        "sees cancels asked of other replicas.",
    )
    priority_aging_seconds: float = Field(
        6.0,
        ge=0,
        description="Head start in the job queue per plan priority level, among jobs of one priority "
        "(pro: 10 levels, a minute); a job that has waited longer goes first all the same.",
    )
    lease_seconds: float = Field(
        10.0,
        gt=0,
        description="How long a job stays with a replica that stops renewing it (it died) before "
        "another replica takes it over.",
    )
    max_takeovers: int = Field(
        3,
        ge=1,
        description="Takeovers after which a job whose replicas keep dying fails (BACKEND_UNAVAILABLE) "
        "instead of running again.",
    )
    cancel_wait_seconds: float = Field(
        5.0, ge=0, description="How long a cancel waits for another replica to stop the job."
    )
    webhook_allowed_hosts: str = Field(
        "",
        description="Where webhooks and job callbacks may be delivered: comma-separated hosts, "
        "`*.domain` suffixes, addresses or CIDR networks (a name must resolve inside them); empty "
        "allows any destination but the cloud-metadata addresses (169.254.0.0/16, fe80::/10, "
        "fd00:ec2::254), which only a listed entry allows.",
    )

    @field_validator("webhook_allowed_hosts")
    @classmethod
    def _parses(cls, value: str) -> str:
        Destinations.parse(value)  # a bad entry stops the service at start, naming it
        return value

    @property
    def destinations(self) -> Destinations:
        """The parsed ``webhook_allowed_hosts``."""
        return Destinations.parse(self.webhook_allowed_hosts)
