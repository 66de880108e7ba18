"""Settings of the auth service (``MESHSERVE_AUTH_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.auth.jwt_codec import DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_SECRET
from services.common.settings import (
    DATABASE_SCHEMES,
    DEFAULT_PORTS,
    REDIS_SCHEMES,
    ServiceSettings,
    database_url_setting,
    enable_auth_setting,
    jwt_secret_setting,
    redis_url_setting,
    url_scheme_validator,
)

_ENV_PREFIX = "MESHSERVE_AUTH_"


class AuthSettings(ServiceSettings):
    """Auth process settings."""

    model_config = SettingsConfigDict(env_prefix=_ENV_PREFIX, extra="ignore", populate_by_name=True)

    port: int = Field(DEFAULT_PORTS["auth"], description="gRPC port.")
    database_url: str = database_url_setting(
        _ENV_PREFIX,
        "postgresql://… keeps users, keys, sessions and the audit log in PostgreSQL, shared "
        "by every replica (also read from DATABASE_URL); sqlite:///path or empty: SQLite.",
    )
    database_path: Path | None = Field(None, description="SQLite file; defaults to <data_dir>/auth.db.")
    redis_url: str = redis_url_setting(
        _ENV_PREFIX,
        "redis://… counts failed logins and their locks for every auth replica (also read "
        "from REDIS_URL); empty: in this process.",
    )
    enable_auth: bool = enable_auth_setting(
        _ENV_PREFIX, "Authentication enabled (also `ENABLE_AUTH`); then the JWT secret must be set."
    )
    jwt_secret: str = jwt_secret_setting(
        _ENV_PREFIX,
        DEFAULT_SECRET,
        "HS256 signing secret (also `MESHSERVE_JWT_SECRET`, shared with the gateway).",
    )
    jwt_issuer: str = Field(DEFAULT_ISSUER, description="`iss` of access tokens.")
    jwt_audience: str = Field(DEFAULT_AUDIENCE, description="`aud` of access tokens.")
    access_ttl_seconds: int = Field(900, description="Lifetime of an access token.")
    refresh_ttl_seconds: int = Field(14 * 24 * 3600, description="Lifetime of a refresh token.")
    admin_username: str = Field("", description="Admin user created at first start when set.")
    admin_email: str = Field("", description="Email of the bootstrap admin.")
    admin_password: str = Field("", description="Password of the bootstrap admin.")
    login_max_failures: int = Field(10, description="Failed logins of one account that lock it.")
    login_address_max_failures: int = Field(50, description="Failed logins from one address that lock it.")
    login_window_seconds: float = Field(900.0, description="Window in which failed logins are counted.")
    login_lock_seconds: float = Field(300.0, description="How long a lock lasts.")

    @property
    def db_file(self) -> Path:
        """The SQLite file in use."""
        return self.database_path or self.data_dir / "auth.db"

    _database_scheme = url_scheme_validator("database_url", DATABASE_SCHEMES)
    _redis_scheme = url_scheme_validator("redis_url", REDIS_SCHEMES)
