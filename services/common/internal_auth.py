"""Service-to-service credential: a shared internal token carried in gRPC metadata.

When authentication is enabled (``ENABLE_AUTH=true``), every service refuses calls that do not carry
``x-meshserve-internal-token`` equal to ``MESHSERVE_INTERNAL_TOKEN``; every outbound call made through
:mod:`services.common.clients` adds it. End-user identity travels beside it in ``x-meshserve-user``.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.errors import AuthenticationFailed
from services.common.settings import enable_auth_setting

INTERNAL_TOKEN_HEADER = "x-meshserve-internal-token"
MIN_TOKEN_LENGTH = 16


class InternalAuthSettings(BaseSettings):
    """Mesh-wide security switches shared by every process."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_", extra="ignore", populate_by_name=True)

    enable_auth: bool = enable_auth_setting(
        "MESHSERVE_", "Require credentials on every surface and an internal token between services."
    )
    internal_token: str = Field(
        "", description="Shared secret services require from each other when auth is enabled."
    )

    def validate_for_start(self) -> None:
        """Fails fast when auth is enabled without a usable internal token."""
        if self.enable_auth and len(self.internal_token) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"ENABLE_AUTH=true needs MESHSERVE_INTERNAL_TOKEN of at least {MIN_TOKEN_LENGTH} characters"
            )


_current: list[InternalAuthSettings] = []


def internal_auth() -> InternalAuthSettings:
    """The process's settings, read from the environment on first use."""
    if not _current:
        _current.append(InternalAuthSettings())
    return _current[0]


def configure(settings: InternalAuthSettings) -> None:
    """Replaces the process's settings (the gateway passes its own)."""
    _current[:] = [settings]


def outbound_metadata() -> tuple[tuple[str, str], ...]:
    """The internal token entry for an outbound call, when one is configured."""
    token = internal_auth().internal_token
    return ((INTERNAL_TOKEN_HEADER, token),) if token else ()


def check_inbound(metadata: Iterable[Any]) -> None:
    """Raises :class:`AuthenticationFailed` when auth is on and the call lacks the internal token."""
    settings = internal_auth()
    if not settings.enable_auth:
        return
    sent = str(dict(metadata).get(INTERNAL_TOKEN_HEADER, ""))
    if not sent or not hmac.compare_digest(sent.encode(), settings.internal_token.encode()):
        raise AuthenticationFailed(
            "missing or invalid internal credential",
            details={"metadata": INTERNAL_TOKEN_HEADER},
            suggestion="call services through the gateway, or send the mesh's internal token",
        )
