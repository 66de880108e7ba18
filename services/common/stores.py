"""What the SQL stores share, whether on SQLite (the embedded default) or PostgreSQL: choosing the
database from its URL setting, and SQLite's write transaction. No transport imports."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from services.common.settings import ConfigurationError

Store = TypeVar("Store")


def open_by_url(
    database_url: str,
    sqlite_file: Path,
    setting: str,
    postgres: Callable[[str], Store],
    sqlite: Callable[[Path], Store],
) -> Store:
    """``postgres(url)`` for ``postgres(ql)://`` URLs, ``sqlite(path)`` at ``sqlite:///path`` or at
    ``sqlite_file`` when the URL is empty; another scheme is a ConfigurationError naming ``setting``."""
    if database_url.startswith(("postgres://", "postgresql://")):
        return postgres(database_url)
    if database_url.startswith("sqlite:///"):
        return sqlite(Path(database_url.removeprefix("sqlite:///")))
    if database_url:
        raise ConfigurationError(
            f"{setting}: unsupported database URL scheme {database_url.split(':', 1)[0]!r}"
        )
    return sqlite(sqlite_file)


@contextmanager
def immediate_transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One SQLite transaction holding the write lock from its BEGIN (other processes may share the
    file): committed when the block ends, rolled back when it raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
