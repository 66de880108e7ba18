"""Typed settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Default gRPC port of each service in the embedded mesh.
DEFAULT_PORTS: dict[str, int] = {
    "auth": 50051,
    "registry": 50052,
    "inference": 50053,
    "speech": 50054,
    "autoscaler": 50055,
}

SERVICE_NAMES: tuple[str, ...] = tuple(DEFAULT_PORTS)


class ServiceSettings(BaseSettings):
    """What every gRPC service process needs; subclasses set ``env_prefix`` (``MESHSERVE_<NAME>_``)."""

    model_config = SettingsConfigDict(extra="ignore")

    host: str = Field("127.0.0.1", description="Interface the gRPC server binds.")
    port: int = Field(0, description="gRPC port; 0 picks a free one (tests).")
    grace_seconds: float = Field(10.0, description="How long in-flight calls may drain after SIGTERM.")
    drain_delay_seconds: float = Field(
        1.0,
        ge=0,
        description="After SIGTERM, how long the service goes on serving while its gRPC health says "
        "NOT_SERVING, so that balancers and health-checking clients stop sending before it stops "
        "accepting calls (then in-flight calls drain for grace_seconds).",
    )
    start_wait_seconds: float = Field(
        60.0,
        ge=0,
        description="How long a service waits at start for its PostgreSQL database to accept "
        "connections, alive but NOT_SERVING; then it stops with exit code 2 naming the setting.",
    )
    log_level: str = Field("INFO", description="Python logging level.")
    data_dir: Path = Field(Path("var"), description="Directory for this service's state.")
    metrics_port: int = Field(-1, description="HTTP port of /metrics; -1 disables, 0 picks a free one.")
    event_loop: Literal["asyncio", "uvloop"] = Field(
        "asyncio",
        description="Event loop the service runs on: the standard library's asyncio, or uvloop "
        "(libuv: less CPU per call).",
    )


class MeshEndpoints(BaseSettings):
    """Where the services live (static discovery, the embedded default): ``MESHSERVE_<NAME>_ADDRESS``."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_", extra="ignore")

    auth_address: str = Field(f"127.0.0.1:{DEFAULT_PORTS['auth']}", description="auth gRPC address.")
    registry_address: str = Field(
        f"127.0.0.1:{DEFAULT_PORTS['registry']}", description="registry gRPC address."
    )
    inference_address: str = Field(
        f"127.0.0.1:{DEFAULT_PORTS['inference']}", description="inference gRPC address."
    )
    speech_address: str = Field(f"127.0.0.1:{DEFAULT_PORTS['speech']}", description="speech gRPC address.")
    autoscaler_address: str = Field(
        f"127.0.0.1:{DEFAULT_PORTS['autoscaler']}", description="autoscaler gRPC address."
    )
    call_timeout_seconds: float = Field(30.0, description="Deadline of an outbound call without one.")

    def address_of(self, service: str) -> str:
        """Address of one service by name."""
        return str(getattr(self, f"{service}_address"))


class ConfigurationError(ValueError):
    """A setting the process cannot use (a bad scheme, an unreachable server); the message names it
    and the service stops at start with it rather than failing requests later."""


def check_url(value: str, setting: str, schemes: tuple[str, ...]) -> str:
    """``value`` when empty or of one of ``schemes``; else ConfigurationError naming ``setting``."""
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if value and scheme not in schemes:
        raise ConfigurationError(
            f"{setting}={redact(value)!r}: unsupported scheme {scheme!r}; use one of "
            + ", ".join(f"{s}://" for s in schemes)
        )
    return value


#: The schemes of a ``database_url`` setting and of a Redis URL setting.
DATABASE_SCHEMES: tuple[str, ...] = ("postgresql", "postgres", "sqlite")
REDIS_SCHEMES: tuple[str, ...] = ("redis", "rediss", "unix")


def url_scheme_validator(field: str, schemes: tuple[str, ...]) -> Any:
    """A pydantic validator of the URL setting ``field`` (see check_url); the error names its
    environment variable, the settings class's ``env_prefix`` and the field's name."""

    def validate(cls: type[BaseSettings], value: str) -> str:
        return check_url(value, f"{cls.model_config.get('env_prefix', '')}{field}".upper(), schemes)

    return field_validator(field)(validate)


def shared_setting(
    default: Any, env_prefix: str, name: str, shared: tuple[str, ...], description: str
) -> Any:
    """A setting read from the process's own ``<env_prefix><NAME>`` or else from the variables
    ``shared`` that several processes read alike; a helper below names them, so every process
    agrees on them."""
    names = dict.fromkeys((f"{env_prefix}{name}".upper(), *shared))  # own first, no repeats
    return Field(default, validation_alias=AliasChoices(*names), description=description)


def database_url_setting(env_prefix: str, description: str) -> Any:
    """A service's ``database_url``, also read from ``DATABASE_URL`` (check its scheme with
    ``url_scheme_validator("database_url", DATABASE_SCHEMES)``)."""
    return shared_setting("", env_prefix, "database_url", ("DATABASE_URL",), description)


def redis_url_setting(env_prefix: str, description: str) -> Any:
    """A process's ``redis_url``, also read from ``REDIS_URL`` (check its scheme with
    ``url_scheme_validator("redis_url", REDIS_SCHEMES)``)."""
    return shared_setting("", env_prefix, "redis_url", ("REDIS_URL",), description)


def enable_auth_setting(env_prefix: str, description: str) -> Any:
    """A process's ``enable_auth`` switch, also read from ``MESHSERVE_ENABLE_AUTH`` and
    ``ENABLE_AUTH``, the mesh-wide switch."""
    return shared_setting(
        False, env_prefix, "enable_auth", ("MESHSERVE_ENABLE_AUTH", "ENABLE_AUTH"), description
    )


def jwt_secret_setting(env_prefix: str, default: str, description: str) -> Any:
    """A process's ``jwt_secret``, also read from ``MESHSERVE_JWT_SECRET``, which the auth service
    (signing) and the gateway (checking) share."""
    return shared_setting(default, env_prefix, "jwt_secret", ("MESHSERVE_JWT_SECRET",), description)


def redact(url: str) -> str:
    """A URL with its password hidden, for messages and logs."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
