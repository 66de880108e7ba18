"""Model metadata: one row per model version, in SQLite (embedded default) or PostgreSQL
(:mod:`services.registry.pg_store`). No transport imports."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from services.common.errors import ModelNotFound
from services.common.stores import immediate_transaction

#: The table on SQLite and PostgreSQL alike (SQLite gives BIGINT its INTEGER affinity).
SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    format TEXT NOT NULL,
    task TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL DEFAULT '',
    size_bytes BIGINT NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    spec TEXT NOT NULL DEFAULT '{}',
    UNIQUE (name, version)
)
"""


@dataclass
class ModelRecord:
    """One model version."""

    name: str
    version: str = "1"
    format: str = "onnx"
    task: str = "tensor"
    status: str = "ready"
    status_reason: str = ""
    sha256: str = ""
    size_bytes: int = 0
    source: str = "upload"
    id: str = field(default_factory=lambda: f"model-{uuid.uuid4().hex[:12]}")
    created_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    #: Inputs, outputs, capabilities and labels, as JSON-able data.
    spec: dict[str, Any] = field(default_factory=dict)


class SqlModelStore:
    """The store's SQL, shared by SQLite and PostgreSQL; subclasses open the connection and say how
    their dialect spells placeholders, an upsert and a numeric version."""

    #: Placeholder of one parameter.
    mark = "?"
    #: Sort key of a version label: its number, 0 when it is not one.
    version_number = "CAST(version AS INTEGER)"

    #: The DB-API connection, opened by the subclass.
    _db: Any

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> Any:
        """Executes one statement; returns the cursor."""
        return self._db.execute(sql, args)

    def _replace(self, row: dict[str, object]) -> None:
        """Inserts a row, replacing any row with the same id or the same (name, version)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def _exclusive(self, name: str) -> Iterator[None]:
        """A transaction that no other writer of the model ``name`` runs beside."""
        raise NotImplementedError
        yield

    def _sql(self, sql: str) -> str:
        return sql.replace("?", self.mark)

    def put(self, record: ModelRecord) -> ModelRecord:
        """Inserts or replaces a version."""
        row = asdict(record)
        row["spec"] = json.dumps(record.spec)
        with self._lock:
            self._replace(row)
        return record

    def add(self, record: ModelRecord, numbered: bool) -> ModelRecord:
        """Stores a finished upload's row in one transaction; when ``numbered``, its version is the
        next integer label of its name, chosen in the same transaction (two uploads never share one)."""
        with self._lock, self._exclusive(record.name):
            if numbered:
                record.version = self._next(record.name)
            row = asdict(record)
            row["spec"] = json.dumps(record.spec)
            self._replace(row)
        return record

    def get(self, name_or_id: str, version: str = "") -> ModelRecord:
        """The named version, or the newest one; :class:`ModelNotFound` otherwise."""
        query = (
            "SELECT * FROM models WHERE (id = ? OR name = ?) AND status NOT IN ('uploading', 'validating')"
        )
        args: list[str] = [name_or_id, name_or_id]
        if version:
            query += " AND version = ?"
            args.append(version)
        query += f" ORDER BY created_at DESC, {self.version_number} DESC LIMIT 1"
        with self._lock:
            cursor = self._run(self._sql(query), tuple(args))
            row = cursor.fetchone()
            columns = [c[0] for c in cursor.description]
        if row is None and version:
            raise ModelNotFound(
                f"model {name_or_id!r} has no version {version!r}",
                details={"model_id": name_or_id, "version": version},
            )
        if row is None:
            raise ModelNotFound(f"model {name_or_id!r} not found", details={"model_id": name_or_id})
        return _record(dict(zip(columns, row, strict=True)))

    def versions(self, name: str) -> list[ModelRecord]:
        """Every stored version of a name, newest first."""
        with self._lock:
            cursor = self._run(
                self._sql(
                    "SELECT * FROM models WHERE name = ? AND status NOT IN ('uploading', 'validating') "
                    f"ORDER BY created_at DESC, {self.version_number} DESC"
                ),
                (name,),
            )
            columns = [c[0] for c in cursor.description]
            rows = cursor.fetchall()
        return [_record(dict(zip(columns, row, strict=True))) for row in rows]

    def delete(self, model_id: str) -> None:
        """Removes one version row by id."""
        with self._lock:
            self._run(self._sql("DELETE FROM models WHERE id = ?"), (model_id,))

    def set_status(self, model_id: str, status: str, reason: str = "") -> None:
        """Moves a version through its lifecycle."""
        with self._lock:
            self._run(
                self._sql("UPDATE models SET status = ?, status_reason = ? WHERE id = ?"),
                (status, reason, model_id),
            )

    def next_version(self, name: str) -> str:
        """The next integer version label of a model name."""
        with self._lock:
            return self._next(name)

    def _next(self, name: str) -> str:
        rows = self._run(self._sql("SELECT version FROM models WHERE name = ?"), (name,)).fetchall()
        numbers = [int(v) for (v,) in rows if str(v).isdigit()]
        return str(max(numbers, default=0) + 1)

    def sha_in_use(self, sha256: str) -> bool:
        """Whether any version still references a blob."""
        with self._lock:
            row = self._run(self._sql("SELECT 1 FROM models WHERE sha256 = ? LIMIT 1"), (sha256,)).fetchone()
        return row is not None

    def purge_incomplete(self) -> int:
        """Drops rows left ``uploading`` or ``validating`` by an older registry, which stored a row
        before the bytes arrived; returns how many (an upload now stores its row once complete)."""
        with self._lock:
            cursor = self._run("DELETE FROM models WHERE status IN ('uploading', 'validating')")
        return int(cursor.rowcount)

    def list(self) -> list[ModelRecord]:
        """The newest version of every model, by name."""
        with self._lock:
            cursor = self._run(
                "SELECT * FROM models WHERE status NOT IN ('uploading', 'validating') "
                f"ORDER BY name, created_at DESC, {self.version_number} DESC"
            )
            columns = [c[0] for c in cursor.description]
            rows = cursor.fetchall()
        latest: dict[str, ModelRecord] = {}
        for row in rows:
            record = _record(dict(zip(columns, row, strict=True)))
            latest.setdefault(record.name, record)
        return list(latest.values())

    def close(self) -> None:
        """Closes the connection."""
        self._db.close()


class ModelStore(SqlModelStore):
    """Thread-safe SQLite store of model versions (the embedded default)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _exclusive(self, name: str) -> Iterator[None]:
        # The write lock at BEGIN: registry replicas may share the file.
        with immediate_transaction(self._db):
            yield

    def _replace(self, row: dict[str, object]) -> None:
        # INSERT OR REPLACE drops rows conflicting on id or on (name, version), in one statement.
        self._db.execute(
            f"INSERT OR REPLACE INTO models ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            tuple(row.values()),
        )


def _record(row: dict[str, object]) -> ModelRecord:
    row["spec"] = json.loads(str(row["spec"]))
    return ModelRecord(**row)  # type: ignore[arg-type]
