"""Settings of the gateway's operations surface (``MESHSERVE_GATEWAY_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import REDIS_SCHEMES, url_scheme_validator


class OpsSettings(BaseSettings):
    """Live events, logs and metrics at the gateway."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_GATEWAY_", extra="ignore", populate_by_name=True)

    events_period_seconds: float = Field(
        2.0,
        gt=0,
        description="Period of the Socket.IO `system_metrics`, `gpu_metrics` and `inference_stats` events.",
    )
    log_dir: Path = Field(
        Path("var/logs"),
        validation_alias=AliasChoices("MESHSERVE_GATEWAY_LOG_DIR", "MESHSERVE_LOG_DIR"),
        description="Directory of the mesh's log files served by /logs (also `MESHSERVE_LOG_DIR`).",
    )
    socketio_redis_url: str = Field(
        "",
        validation_alias=AliasChoices("MESHSERVE_GATEWAY_SOCKETIO_REDIS_URL", "REDIS_URL"),
        description="Redis through which gateway replicas share Socket.IO (python-socketio's Redis "
        "manager): a client on any replica gets every replica's `inference_events`, no sticky sessions "
        "needed for WebSocket (also `REDIS_URL`); empty: events stay on their replica.",
    )
    socketio_cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to open /socket.io from a browser; empty: same origin.",
    )

    _redis_scheme = url_scheme_validator("socketio_redis_url", REDIS_SCHEMES)
