"""Settings of the auth service (``MESHSERVE_AUTH_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import DEFAULT_PORTS, ServiceSettings


class AuthSettings(ServiceSettings):
    """Auth process settings."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_AUTH_", extra="ignore")

    port: int = Field(DEFAULT_PORTS["auth"], description="gRPC port.")
    database_path: Path | None = Field(None, description="SQLite file; defaults to <data_dir>/auth.db.")

    @property
    def db_file(self) -> Path:
        """The SQLite file in use."""
        return self.database_path or self.data_dir / "auth.db"
