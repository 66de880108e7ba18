"""Settings of the gateway's security layer (``MESHSERVE_GATEWAY_*``, with the documented aliases)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.auth.jwt_codec import DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_SECRET
from services.common.plans import DEFAULT_PLANS
from services.common.settings import (
    REDIS_SCHEMES,
    enable_auth_setting,
    jwt_secret_setting,
    redis_url_setting,
    url_scheme_validator,
)

_ENV_PREFIX = "MESHSERVE_GATEWAY_"


class SecuritySettings(BaseSettings):
    """Authentication, rate limiting and audit at the gateway."""

    model_config = SettingsConfigDict(env_prefix=_ENV_PREFIX, extra="ignore", populate_by_name=True)

    enable_auth: bool = enable_auth_setting(
        _ENV_PREFIX,
        "Lock every surface but health and docs (also `ENABLE_AUTH`, as document 001 names it).",
    )
    jwt_secret: str = jwt_secret_setting(
        _ENV_PREFIX,
        DEFAULT_SECRET,
        "HS256 secret shared with the auth service (also `MESHSERVE_JWT_SECRET`).",
    )
    jwt_issuer: str = Field(DEFAULT_ISSUER, description="Accepted `iss` of access tokens.")
    jwt_audience: str = Field(DEFAULT_AUDIENCE, description="Accepted `aud` of access tokens.")
    internal_token: str = Field(
        "",
        validation_alias=AliasChoices("MESHSERVE_GATEWAY_INTERNAL_TOKEN", "MESHSERVE_INTERNAL_TOKEN"),
        description="Service-to-service token sent on every gRPC call (also `MESHSERVE_INTERNAL_TOKEN`).",
    )
    redis_url: str = redis_url_setting(
        _ENV_PREFIX,
        "Redis for rate-limit counters shared by replicas (also `REDIS_URL`); empty: in-process.",
    )
    key_cache_seconds: float = Field(30.0, description="How long an API-key look-up is reused.")
    revocation_poll_seconds: float = Field(
        0.5, description="How often revoked sessions and keys are fetched."
    )
    rate_limits: bool = Field(
        True,
        description=(
            "Rate limits (004 §9.1 per endpoint, the plans elsewhere, anonymous callers by address), "
            "on in every mode; `off` for local benchmarks and tests."
        ),
    )
    rate_limit_scale: float = Field(
        1.0, gt=0, description="Multiplies every rate limit (e.g. `100` to raise them for a local benchmark)."
    )
    rate_limit_window_seconds: int = Field(3600, description="Fixed window of every rate limit.")
    free_limit: int = Field(
        DEFAULT_PLANS["free"].requests_per_hour, description="Requests per window of the free plan."
    )
    pro_limit: int = Field(
        DEFAULT_PLANS["pro"].requests_per_hour, description="Requests per window of the pro plan."
    )
    rate_limit_anonymous: bool = Field(
        True,
        description=(
            "Count anonymous callers by address (004's unauthenticated limits, the anonymous plan elsewhere)."
        ),
    )
    plan_refresh_seconds: float = Field(
        10.0,
        gt=0,
        description="How often the plans' request rates are read from the auth service's plan table.",
    )
    audit_enabled: bool = Field(True, description="Record every request in the audit log.")
    audit_flush_seconds: float = Field(0.5, description="How often queued audit events are sent.")
    audit_batch_size: int = Field(200, description="Most audit events sent in one call.")
    audit_queue_size: int = Field(10_000, description="Audit events kept while auth is unreachable.")

    _redis_scheme = url_scheme_validator("redis_url", REDIS_SCHEMES)
