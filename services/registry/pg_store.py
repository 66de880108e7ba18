"""Model metadata in PostgreSQL (``DATABASE_URL``), with psycopg 3: the same table and the same
guarantees as the SQLite store (a replace is one transaction; unique (name, version)). No transport
imports."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from services.common.postgres import connect
from services.common.stores import open_by_url
from services.registry.store import SCHEMA, ModelStore, SqlModelStore


class PostgresModelStore(SqlModelStore):
    """Thread-safe PostgreSQL store of model versions (one autocommit connection)."""

    mark = "%s"
    # SQLite's CAST of a non-number gives 0; PostgreSQL would raise, so test first.
    version_number = "(CASE WHEN version ~ '^[0-9]+$' THEN CAST(version AS BIGINT) ELSE 0 END)"

    def __init__(self, url: str) -> None:
        super().__init__()
        self._db = connect(url, "MESHSERVE_REGISTRY_DATABASE_URL")
        with self._db.transaction():
            # Several registry replicas may start at once: serialise the schema creation.
            self._db.execute("SELECT pg_advisory_xact_lock(726354)")
            self._db.execute(SCHEMA)

    @contextlib.contextmanager
    def _exclusive(self, name: str) -> Iterator[None]:
        # Replicas share the database: one writer of a model name at a time, until the commit.
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(726355, hashtext(%s))", (name,))
            yield

    def _replace(self, row: dict[str, object]) -> None:
        # SQLite's INSERT OR REPLACE, spelled out in one transaction: drop the row holding the same
        # (name, version) under another id, then upsert by id.
        columns = ", ".join(row)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in row if c != "id")
        with self._db.transaction():
            self._db.execute(
                "DELETE FROM models WHERE name = %s AND version = %s AND id <> %s",
                (row["name"], row["version"], row["id"]),
            )
            self._db.execute(
                f"INSERT INTO models ({columns}) VALUES ({', '.join(['%s'] * len(row))}) "
                f"ON CONFLICT (id) DO UPDATE SET {updates}",
                tuple(row.values()),
            )


def open_store(database_url: str, sqlite_file: Path) -> SqlModelStore:
    """PostgreSQL when the URL says ``postgres(ql)://``, SQLite at ``sqlite:///path`` or the file."""
    return open_by_url(
        database_url, sqlite_file, "MESHSERVE_REGISTRY_DATABASE_URL", PostgresModelStore, ModelStore
    )
