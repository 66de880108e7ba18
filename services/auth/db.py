"""One SQLite connection shared by the auth stores, serialised by a lock (calls run in threads)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any


class Database:
    """A SQLite file in WAL mode with autocommit; every statement runs under one lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()

    def script(self, sql: str) -> None:
        """Runs a schema script."""
        with self._lock:
            self._db.executescript(sql)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Runs one statement; returns the rows changed."""
        with self._lock:
            return self._db.execute(sql, params).rowcount

    def execute_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Runs one statement per row in a single transaction: all rows or none, and one commit
        (one WAL sync) for the lot instead of one per row."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(sql, rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def insert(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Runs an INSERT; returns the new rowid."""
        with self._lock:
            return int(self._db.execute(sql, params).lastrowid or 0)

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
