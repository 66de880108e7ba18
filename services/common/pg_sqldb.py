"""A service's store database on PostgreSQL (psycopg 3), shared by every replica: the interface of
:class:`~services.common.sqldb.Database`, with the stores' portable SQL translated where the
dialects differ (``?`` placeholders, SQLite's AUTOINCREMENT and REAL)."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from services.common.postgres import connect
from services.common.sqldb import Database, SqlDatabase
from services.common.stores import open_by_url

#: Replicas starting at once create the schema one at a time (a PostgreSQL advisory lock per setting).
SCHEMA_LOCKS = {"MESHSERVE_AUTH_DATABASE_URL": 726356, "MESHSERVE_AUTOSCALER_DATABASE_URL": 726357}

_DIALECT = (
    (re.compile(r"INTEGER PRIMARY KEY AUTOINCREMENT", re.IGNORECASE), "BIGSERIAL PRIMARY KEY"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
)


def postgres_sql(sql: str) -> str:
    """A statement of the stores in PostgreSQL's dialect."""
    for pattern, replacement in _DIALECT:
        sql = pattern.sub(replacement, sql)
    return sql.replace("?", "%s")


class PostgresDatabase:
    """One autocommit connection; every statement runs under one lock (calls run in threads)."""

    def __init__(self, url: str, setting: str = "MESHSERVE_AUTH_DATABASE_URL") -> None:
        import psycopg

        self.IntegrityError: type[Exception] = psycopg.IntegrityError
        self.Error: type[Exception] = psycopg.Error
        self._db = connect(url, setting)
        self._schema_lock = SCHEMA_LOCKS[setting]
        self._lock = threading.Lock()

    def script(self, sql: str) -> None:
        """Runs a schema script (several statements), serialised across replicas."""
        with self._lock, self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (self._schema_lock,))
            for statement in filter(None, (s.strip() for s in sql.split(";"))):
                self._db.execute(postgres_sql(statement))

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Runs one statement; returns the rows changed."""
        with self._lock:
            return int(self._db.execute(postgres_sql(sql), params).rowcount)

    def execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> int:
        """Runs one statement per row in a single transaction: all rows or none; returns the rows
        changed in all."""
        with self._lock, self._db.transaction(), self._db.cursor() as cursor:
            cursor.executemany(postgres_sql(sql), rows)
            return max(0, int(cursor.rowcount))

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        """The first row of a query."""
        with self._lock:
            row = self._db.execute(postgres_sql(sql), params).fetchone()
        return tuple(row) if row is not None else None

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Every row of a query."""
        with self._lock:
            return [tuple(r) for r in self._db.execute(postgres_sql(sql), params).fetchall()]

    def close(self) -> None:
        """Closes the connection."""
        with self._lock:
            self._db.close()


def open_database(
    database_url: str, sqlite_file: Path, setting: str = "MESHSERVE_AUTH_DATABASE_URL"
) -> SqlDatabase:
    """PostgreSQL for ``postgres(ql)://`` URLs, SQLite at ``sqlite:///path`` or at ``sqlite_file``;
    another scheme, or a server that cannot be reached, is a ConfigurationError naming ``setting``."""

    def postgres(url: str) -> SqlDatabase:
        return PostgresDatabase(url, setting)

    def sqlite(path: Path) -> SqlDatabase:
        return Database(path)

    return open_by_url(database_url, sqlite_file, setting, postgres, sqlite)
