"""Settings of the inference service (``MESHSERVE_INFERENCE_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import DEFAULT_PORTS, ServiceSettings


class InferenceSettings(ServiceSettings):
    """Inference process settings."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_INFERENCE_", extra="ignore")

    port: int = Field(DEFAULT_PORTS["inference"], description="gRPC port.")
