"""Jobs, items and webhooks in PostgreSQL (psycopg 3), shared by every inference replica: the same
queries as the SQLite store, with claims that skip rows another replica is locking
(``SELECT … FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from services.common.postgres import connect
from services.common.stores import open_by_url
from services.inference.jobs import schema
from services.inference.jobs.store import JobStore, SqlJobStore

#: Several replicas may start at once: one migrates while the others wait on this lock.
MIGRATION_LOCK = 726355


class PostgresJobStore(SqlJobStore):
    """The job store on one PostgreSQL connection (autocommit outside explicit transactions)."""

    shared = True
    dialect = schema.POSTGRES
    lock_rows = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, setting: str = "MESHSERVE_INFERENCE_DATABASE_URL") -> None:
        super().__init__()
        self._db = connect(url, setting)
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
    return open_by_url(
        database_url,
        sqlite_file,
        setting,
        lambda url: PostgresJobStore(url, setting),
        JobStore,
    )
