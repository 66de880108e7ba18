"""One way every service connects to PostgreSQL (psycopg 3): autocommit, a bounded connect
timeout, and a server that cannot be reached stops the service with a ConfigurationError naming the
setting (the password never printed).

The connection a store holds survives a restart of the server: a statement on a dropped connection
fails with ``BackendUnavailable`` (503 with Retry-After, never a 500), and the next statement opens
the connection again. The services' readiness checks run a statement every second, so a service is
NOT_SERVING while the database is away and SERVING again by itself once it is back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from services.common.errors import BackendUnavailable
from services.common.settings import ConfigurationError, redact


def _reason(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[-1] if text else type(error).__name__


def _open(url: str, setting: str, timeout_seconds: int) -> Any:
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=timeout_seconds)
    except psycopg.OperationalError as error:
        raise ConfigurationError(
            f"{setting}={redact(url)!r}: cannot connect to PostgreSQL: {_reason(error)}"
        ) from None


class Connection:
    """One autocommit psycopg connection that opens again after the server dropped it.

    The stores serialise their statements on one connection under their own lock and use its
    transactions directly, so this keeps that shape rather than a pool (``psycopg_pool`` checks a
    connection on checkout in the same way: a closed or broken one is replaced)."""

    def __init__(self, url: str, setting: str, timeout_seconds: int) -> None:
        self._url, self._setting, self._timeout = url, setting, timeout_seconds
        self._connection = _open(url, setting, timeout_seconds)
        self._closed = False
        self._transactions = 0  # open transaction blocks: none may continue on a new connection

    @contextlib.contextmanager
    def _unavailable_when_dropped(self) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.OperationalError as error:
            raise BackendUnavailable(
                f"the database is unreachable: {_reason(error)}", retry_after=1
            ) from None

    def _live(self) -> Any:
        """The connection, opened again when the server dropped it (psycopg marks it closed)."""
        if self._connection.closed and not self._closed:
            if self._transactions:
                raise BackendUnavailable("the database connection dropped in a transaction", retry_after=1)
            try:
                self._connection = _open(self._url, self._setting, self._timeout)
            except ConfigurationError as error:
                raise BackendUnavailable(str(error), retry_after=1) from None
        return self._connection

    def execute(self, sql: Any, params: Any = None) -> Any:
        """Runs one statement (psycopg's ``Connection.execute``)."""
        with self._unavailable_when_dropped():
            return self._live().execute(sql, params)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """A transaction (psycopg's ``Connection.transaction``): all of it or nothing."""
        connection = self._live()
        with self._unavailable_when_dropped():
            with connection.transaction():
                self._transactions += 1
                try:
                    yield
                finally:
                    self._transactions -= 1
            if connection.closed:  # psycopg leaves a block on a dropped connection without a word
                raise BackendUnavailable(
                    "the database connection dropped before the transaction committed", retry_after=1
                )

    @contextlib.contextmanager
    def cursor(self) -> Iterator[Any]:
        """A cursor of the live connection."""
        with self._unavailable_when_dropped(), self._live().cursor() as cursor:
            yield cursor

    def close(self) -> None:
        """Closes the connection for good."""
        self._closed = True
        self._connection.close()


def connect(url: str, setting: str, timeout_seconds: int = 5) -> Connection:
    """An autocommit connection to ``url`` that survives a server restart; ConfigurationError
    naming ``setting`` when the server cannot be reached now."""
    return Connection(url, setting, timeout_seconds)


class DatabaseUnreachable(ConfigurationError):
    """The database a setting names does not accept connections (yet): a service waits for it at
    start, NOT_SERVING, and stops with this error when it never does."""


def probe(url: str, setting: str, timeout_seconds: int = 2) -> None:
    """Connects to ``url`` (PostgreSQL URLs only; anything else is local) and closes again;
    DatabaseUnreachable naming ``setting`` when it cannot."""
    if not url.startswith(("postgres://", "postgresql://")):
        return
    try:
        _open(url, setting, timeout_seconds).close()
    except ConfigurationError as error:
        raise DatabaseUnreachable(str(error)) from None
