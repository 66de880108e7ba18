"""Jobs, items and webhooks in PostgreSQL (psycopg 3), shared by every inference replica: the same
queries as the SQLite store, with claims that skip rows another replica is locking
(``SELECT … FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from services.common.settings import ConfigurationError, redact
from services.inference.jobs import schema
from services.inference.jobs.store import JobStore, SqlJobStore

#: Several replicas may start at once: one migrates while the others wait on this lock.
MIGRATION_LOCK = 726355


class PostgresJobStore(SqlJobStore):
    """The job store on one PostgreSQL connection (autocommit outside explicit transactions)."""

    shared = True
    dialect = schema.POSTGRES
    lock_rows = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, connect_timeout: float = 5.0) -> None:
        import psycopg

        super().__init__()
        self._db = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(connect_timeout)))
        with self.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            self._migrate()

    def run(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        with self._lock:
            return self._db.execute(sql.replace("?", "%s"), args)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock, self._db.transaction():
            yield

    def close(self) -> None:
        """Closes the connection."""
        with self._lock:
            self._db.close()


def open_job_store(
    database_url: str, sqlite_file: Path, setting: str = "MESHSERVE_INFERENCE_DATABASE_URL"
) -> SqlJobStore:
    """PostgreSQL for ``postgres(ql)://`` URLs, SQLite at ``sqlite:///path`` or at ``sqlite_file``;
    a database that cannot be reached is a ConfigurationError naming ``setting``."""
    if database_url.startswith(("postgres://", "postgresql://")):
        import psycopg

        try:
            return PostgresJobStore(database_url)
        except psycopg.OperationalError as error:
            reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
            raise ConfigurationError(
                f"{setting}={redact(database_url)!r}: cannot connect to PostgreSQL: {reason}"
            ) from None
    if database_url.startswith("sqlite:///"):
        return JobStore(Path(database_url.removeprefix("sqlite:///")))
    if database_url:
        raise ConfigurationError(
            f"{setting}: unsupported database URL scheme {database_url.split(':', 1)[0]!r}"
        )
    return JobStore(sqlite_file)
