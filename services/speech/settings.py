"""Settings of the speech service (``MESHSERVE_SPEECH_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import DEFAULT_PORTS, ServiceSettings


class SpeechSettings(ServiceSettings):
    """Speech process settings."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_SPEECH_", extra="ignore")

    port: int = Field(DEFAULT_PORTS["speech"], description="gRPC port.")
