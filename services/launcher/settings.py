"""Settings of the launcher (``MESHSERVE_*``): where each process listens and keeps its state."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import DEFAULT_PORTS


class LauncherSettings(BaseSettings):
    """The embedded mesh's layout."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_", extra="ignore")

    host: str = Field("127.0.0.1", description="Interface every process binds.")
    data_dir: Path = Field(Path("var"), description="State of every service (SQLite, blobs, logs).")
    gateway_port: int = Field(8000, description="HTTP port of the gateway.")
    auth_port: int = Field(DEFAULT_PORTS["auth"], description="gRPC port of auth.")
    registry_port: int = Field(DEFAULT_PORTS["registry"], description="gRPC port of registry.")
    inference_port: int = Field(DEFAULT_PORTS["inference"], description="gRPC port of inference.")
    speech_port: int = Field(DEFAULT_PORTS["speech"], description="gRPC port of speech.")
    autoscaler_port: int = Field(DEFAULT_PORTS["autoscaler"], description="gRPC port of autoscaler.")
    startup_timeout_seconds: float = Field(180.0, description="How long to wait for every process to serve.")
    restart_backoff_max_seconds: float = Field(10.0, description="Longest wait before restarting a process.")

    def port_of(self, name: str) -> int:
        """Port of a process by name."""
        return int(getattr(self, f"{name}_port"))

    @property
    def state_file(self) -> Path:
        """Where ``meshserve up`` records its processes for ``meshserve status``."""
        return self.data_dir / "launcher.json"

    @property
    def log_dir(self) -> Path:
        """Directory of the per-process log files."""
        return self.data_dir / "logs"
