"""Settings of the registry service (``MESHSERVE_REGISTRY_*``)."""

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

_ENV_PREFIX = "MESHSERVE_REGISTRY_"


class RegistrySettings(ServiceSettings):
    """Registry process settings."""

    model_config = SettingsConfigDict(env_prefix=_ENV_PREFIX, extra="ignore")

    port: int = Field(DEFAULT_PORTS["registry"], description="gRPC port.")
    database_url: str = database_url_setting(
        _ENV_PREFIX,
        "postgresql://… stores metadata in PostgreSQL (also read from DATABASE_URL); "
        "sqlite:///path or empty uses SQLite.",
    )
    database_path: Path | None = Field(None, description="SQLite file; defaults to <data_dir>/registry.db.")
    blob_dir: Path | None = Field(
        None, description="Content-addressed blob store; defaults to <data_dir>/blobs."
    )
    max_upload_bytes: int = Field(512 * 1024 * 1024, ge=1, description="Largest artifact accepted, in bytes.")
    import_timeout_seconds: float = Field(
        30.0, description="Network timeout of URL and Hugging Face imports."
    )

    @property
    def db_file(self) -> Path:
        """The SQLite file in use."""
        return self.database_path or self.data_dir / "registry.db"

    @property
    def blobs_root(self) -> Path:
        """The blob store directory in use."""
        return self.blob_dir or self.data_dir / "blobs"

    _database_scheme = url_scheme_validator("database_url", DATABASE_SCHEMES)
