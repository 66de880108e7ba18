"""A small SQL database for a service's stores (auth's users, keys and metering, the autoscaler's
policies): one SQLite connection (the embedded default), serialised by a lock (calls may run in
threads); :mod:`.pg_sqldb` is the same interface on PostgreSQL, shared by replicas. The stores
write portable SQL with ``?`` placeholders and catch ``db.IntegrityError`` / ``db.Error``."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any, Protocol


class SqlDatabase(Protocol):
    """What the stores need of a database (SQLite here, PostgreSQL in :mod:`.pg_sqldb`)."""

    IntegrityError: type[Exception]
    Error: type[Exception]

    def script(self, sql: str) -> None:
        """Runs a schema script."""
        ...

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Runs one statement; the rows changed."""
        ...

    def execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> int:
        """Runs one statement per row, all or none; the rows changed in all."""
        ...

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        """The first row of a query."""
        ...

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Every row of a query."""
        ...

    def close(self) -> None:
        """Closes the connection."""
        ...


def set_filters(*conditions: tuple[str, Any]) -> tuple[list[str], tuple[Any, ...]]:
    """The SQL conditions whose value is set (an empty filter matches all), with their parameters in order."""
    kept = [(condition, value) for condition, value in conditions if value]
    return [condition for condition, _ in kept], tuple(value for _, value in kept)


class Database:
    """A SQLite file in WAL mode with autocommit; every statement runs under one lock."""

    IntegrityError: type[Exception] = sqlite3.IntegrityError
    Error: type[Exception] = sqlite3.Error

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # Local replicas may share the file (meshserve up --replicas auth=2): wait for a writer.
        self._db.execute("PRAGMA busy_timeout=5000")
        self._lock = threading.Lock()

    def script(self, sql: str) -> None:
        """Runs a schema script."""
        with self._lock:
            self._db.executescript(sql)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Runs one statement; returns the rows changed."""
        with self._lock:
            return self._db.execute(sql, params).rowcount

    def execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> int:
        """Runs one statement per row in a single transaction: all rows or none, and one commit
        (one WAL sync) for the lot instead of one per row; returns the rows changed in all."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                changed = self._db.executemany(sql, rows).rowcount
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return changed

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        """The first row of a query."""
        with self._lock:
            row = self._db.execute(sql, params).fetchone()
        return tuple(row) if row is not None else None

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Every row of a query."""
        with self._lock:
            return [tuple(r) for r in self._db.execute(sql, params).fetchall()]

    def close(self) -> None:
        """Closes the connection."""
        with self._lock:
            self._db.close()
