"""Settings of the autoscaler service (``MESHSERVE_AUTOSCALER_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import DEFAULT_PORTS, ServiceSettings


class AutoscalerSettings(ServiceSettings):
    """Autoscaler process settings."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_AUTOSCALER_", extra="ignore")

    port: int = Field(DEFAULT_PORTS["autoscaler"], description="gRPC port.")
    period_seconds: float = Field(5.0, description="Seconds between evaluations of every policy.")
    driver: str = Field("local", description="Scaling driver: local (worker processes) or kubernetes.")
    history_size: int = Field(200, description="Decisions kept in memory for GetAutoscalerStats.")
