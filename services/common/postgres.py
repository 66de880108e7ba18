"""One way every service connects to PostgreSQL (psycopg 3): autocommit, a bounded connect
timeout, and a server that cannot be reached stops the service with a ConfigurationError naming the
setting (the password never printed)."""

from __future__ import annotations

from typing import Any

from services.common.settings import ConfigurationError, redact


def connect(url: str, setting: str, timeout_seconds: int = 5) -> Any:
    """An autocommit connection to ``url``; ConfigurationError naming ``setting`` when it fails."""
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=timeout_seconds)
    except psycopg.OperationalError as error:
        text = str(error).strip()
        reason = text.splitlines()[-1] if text else type(error).__name__
        raise ConfigurationError(
            f"{setting}={redact(url)!r}: cannot connect to PostgreSQL: {reason}"
        ) from None


class DatabaseUnreachable(ConfigurationError):
    """The database a setting names does not accept connections (yet): a service waits for it at
    start, NOT_SERVING, and stops with this error when it never does."""


def probe(url: str, setting: str, timeout_seconds: int = 2) -> None:
    """Connects to ``url`` (PostgreSQL URLs only; anything else is local) and closes again;
    DatabaseUnreachable naming ``setting`` when it cannot."""
    if not url.startswith(("postgres://", "postgresql://")):
        return
    try:
        connect(url, setting, timeout_seconds).close()
    except ConfigurationError as error:
        raise DatabaseUnreachable(str(error)) from None
