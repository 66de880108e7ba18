"""Model metadata in SQLite: one row per model version. No transport imports."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from services.common.errors import ModelNotFound

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
    size_bytes INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    spec TEXT NOT NULL DEFAULT '{}',
    UNIQUE (name, version)
);
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
    spec: dict[str, object] = field(default_factory=dict)


class ModelStore:
    """Thread-safe SQLite store of model versions."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def put(self, record: ModelRecord) -> ModelRecord:
        """Inserts or replaces a version."""
        row = asdict(record)
        row["spec"] = json.dumps(record.spec)
        with self._lock:
            self._db.execute(
                f"INSERT OR REPLACE INTO models ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
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
        query += " ORDER BY created_at DESC, CAST(version AS INTEGER) DESC LIMIT 1"
        with self._lock:
            cursor = self._db.execute(query, args)
            row = cursor.fetchone()
            columns = [c[0] for c in cursor.description]
        if row is None:
            raise ModelNotFound(f"model {name_or_id!r} not found", details={"model_id": name_or_id})
        return _record(dict(zip(columns, row, strict=True)))

    def delete(self, model_id: str) -> None:
        """Removes one version row by id."""
        with self._lock:
            self._db.execute("DELETE FROM models WHERE id = ?", (model_id,))

    def set_status(self, model_id: str, status: str, reason: str = "") -> None:
        """Moves a version through its lifecycle."""
        with self._lock:
            self._db.execute(
                "UPDATE models SET status = ?, status_reason = ? WHERE id = ?", (status, reason, model_id)
            )

    def next_version(self, name: str) -> str:
        """The next integer version label of a model name."""
        with self._lock:
            rows = self._db.execute("SELECT version FROM models WHERE name = ?", (name,)).fetchall()
        numbers = [int(v) for (v,) in rows if str(v).isdigit()]
        return str(max(numbers, default=0) + 1)

    def sha_in_use(self, sha256: str) -> bool:
        """Whether any version still references a blob."""
        with self._lock:
            row = self._db.execute("SELECT 1 FROM models WHERE sha256 = ? LIMIT 1", (sha256,)).fetchone()
        return row is not None

    def purge_incomplete(self) -> int:
        """Drops rows of uploads a previous process did not finish; returns how many."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM models WHERE status IN ('uploading', 'validating')")
        return cursor.rowcount

    def list(self) -> list[ModelRecord]:
        """The newest version of every model, by name."""
        with self._lock:
            cursor = self._db.execute(
                "SELECT * FROM models WHERE status NOT IN ('uploading', 'validating') "
                "ORDER BY name, created_at DESC, CAST(version AS INTEGER) DESC"
            )
            columns = [c[0] for c in cursor.description]
            rows = cursor.fetchall()
        latest: dict[str, ModelRecord] = {}
        for row in rows:
            record = _record(dict(zip(columns, row, strict=True)))
            latest.setdefault(record.name, record)
        return list(latest.values())


def _record(row: dict[str, object]) -> ModelRecord:
    row["spec"] = json.loads(str(row["spec"]))
    return ModelRecord(**row)  # type: ignore[arg-type]
