"""Settings of the autoscaler service (``MESHSERVE_AUTOSCALER_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import (
    DATABASE_SCHEMES,
    DEFAULT_PORTS,
    ServiceSettings,
    database_url_setting,
    url_scheme_validator,
)

_ENV_PREFIX = "MESHSERVE_AUTOSCALER_"


class AutoscalerSettings(ServiceSettings):
    """Autoscaler process settings."""

    model_config = SettingsConfigDict(env_prefix=_ENV_PREFIX, extra="ignore")

    port: int = Field(DEFAULT_PORTS["autoscaler"], description="gRPC port.")
    database_url: str = database_url_setting(
        _ENV_PREFIX,
        "postgresql://… keeps the scaling policies in PostgreSQL (also read from DATABASE_URL); "
        "sqlite:///path or empty uses SQLite.",
    )
    database_path: Path | None = Field(
        None, description="SQLite file of the policies; defaults to <data_dir>/autoscaler.db."
    )
    period_seconds: float = Field(5.0, description="Seconds between evaluations of every policy.")
    driver: str = Field("local", description="Scaling driver: local (worker processes) or kubernetes.")
    history_size: int = Field(200, description="Decisions kept in memory for GetAutoscalerStats.")
    window_seconds: float = Field(
        3.0, ge=0, description="Metrics are averaged over this many seconds of evaluations before deciding."
    )
    enabled: bool = Field(True, description="Run the control loop; when false only manual scaling acts.")
    default_pool_policy: bool = Field(
        False,
        description="Create a policy for the whole worker pool (target `*`) at start with the defaults.",
    )
    stats_timeout_seconds: float = Field(5.0, description="Deadline of each statistics call to inference.")
    metrics_period_seconds: float = Field(
        5.0, description="Seconds between samples of the metrics time series (004 /api/v1/system/metrics)."
    )
    metrics_keep_seconds: float = Field(
        7 * 24 * 3600.0,
        description="How long samples of the metrics time series are kept (7 days covers 004's 7d).",
    )
    metrics_models_keep_seconds: float = Field(
        3600.0,
        description="How long samples keep their per-model breakdown (the dashboard's per-model charts).",
    )
    kubernetes_namespace: str = Field("default", description="Namespace of the worker Deployments.")
    kubernetes_pool_deployment: str = Field(
        "inference",
        description="Deployment scaled for the pool target `*` (the manifests' inference Deployment).",
    )
    kubernetes_api_url: str = Field(
        "", description="API server URL; empty: in-cluster service account, else the kubeconfig."
    )
    kubernetes_token: str = Field("", description="Bearer token for `kubernetes_api_url`.")
    kubernetes_verify_tls: bool = Field(True, description="Verify the API server's certificate.")
    kubernetes_timeout_seconds: float = Field(10.0, description="Deadline of each Kubernetes API call.")

    @property
    def db_file(self) -> Path:
        """The SQLite file in use."""
        return self.database_path or self.data_dir / "autoscaler.db"

    _database_scheme = url_scheme_validator("database_url", DATABASE_SCHEMES)
