"""The audit log: append batches, query by time range and user. No transport imports."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from services.common.errors import InvalidInput
from services.common.sqldb import SqlDatabase, set_filters

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


def audit_bound(value: str, field: str) -> str:
    """A query bound in the stored form, so that comparing text compares times.

    ``value`` is a day (midnight UTC) or an ISO 8601 / RFC 3339 date-time: with an offset it is
    converted to UTC, without one it is UTC. Anything else, an impossible day such as 2026-13-45
    included, is InvalidInput naming ``field``; empty means no bound.
    """
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{field} must be a date (YYYY-MM-DD) or a date-time (RFC 3339)",
            details={"field": field, "value": value[:40]},
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


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
        """Events in [since, until) (see :func:`audit_bound`), newest first."""
        since, until = audit_bound(since, "date_from"), audit_bound(until, "date_to")
        if since and until and since > until:
            raise InvalidInput(
                "date_from must not be after date_to", details={"field": "date_from", "date_to": until}
            )
        clauses, params = set_filters(("time >= ?", since), ("time < ?", until), ("user_id = ?", user_id))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        limit = min(limit or 100, MAX_LIMIT)
        rows = self._db.all(
            f"SELECT {', '.join(COLUMNS)} FROM audit {where} ORDER BY seq DESC LIMIT ?", (*params, limit)
        )
        return [AuditRecord(*r) for r in rows]
