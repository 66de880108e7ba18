"""The audit log: append batches, query by time range and user. No transport imports."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, fields

from services.auth.db import SqlDatabase, set_filters

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    user_id TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    client_address TEXT NOT NULL,
    status INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    request_id TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    credential_type TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_time ON audit (time);
CREATE INDEX IF NOT EXISTS audit_user ON audit (user_id, time);
"""


def audit_time(at: float | None = None) -> str:
    """RFC 3339 UTC with milliseconds (sorts as text in time order)."""
    at = time.time() if at is None else at
    return f"{_utc_second(int(at // 1))}.{int(at % 1 * 1000):03d}Z"


@functools.lru_cache(maxsize=4)
def _utc_second(second: int) -> str:
    """A whole second as RFC 3339 UTC, rendered once per second: the gateway stamps every request
    it audits, and ``strftime`` would cost each a microsecond or two."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


@dataclass(frozen=True)
class AuditRecord:
    """One audit event (already masked by whoever recorded it)."""

    time: str
    user_id: str
    method: str
    path: str
    client_address: str = ""
    status: int = 0
    latency_ms: float = 0.0
    request_id: str = ""
    action: str = "request"
    outcome: str = ""
    detail: str = ""
    credential_type: str = ""


COLUMNS = [f.name for f in fields(AuditRecord)]
MAX_LIMIT = 1000


class AuditStore:
    """Audit events in SQLite."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db
        self._db.script(SCHEMA)

    def append(self, records: list[AuditRecord]) -> None:
        """Stores a batch of events in one transaction (the gateway sends hundreds at a time)."""
        sql = f"INSERT INTO audit ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        self._db.execute_many(sql, [tuple(getattr(record, c) for c in COLUMNS) for record in records])

    def query(self, since: str, until: str, user_id: str, limit: int) -> list[AuditRecord]:
        """Events in [since, until) (RFC 3339 strings compare in time order), newest first."""
        clauses, params = set_filters(("time >= ?", since), ("time < ?", until), ("user_id = ?", user_id))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        limit = min(limit or 100, MAX_LIMIT)
        rows = self._db.all(
            f"SELECT {', '.join(COLUMNS)} FROM audit {where} ORDER BY seq DESC LIMIT ?", (*params, limit)
        )
        return [AuditRecord(*r) for r in rows]
