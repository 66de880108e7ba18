"""SQLite persistence of jobs, items and webhooks, so they survive a restart of the service.

One file under the inference data directory. Writes are single small rows in WAL mode (well under
a millisecond), so they run inline on the event loop rather than hopping to a thread per item.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from services.inference.jobs.records import (
    CallbackStatus,
    ErrorInfo,
    ItemResult,
    ItemSpec,
    Job,
    JobConfig,
    State,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    job_type TEXT NOT NULL,
    state TEXT NOT NULL,
    config TEXT NOT NULL,
    error TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    callback TEXT
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE TABLE IF NOT EXISTS job_items (
    job_id TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    spec TEXT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (job_id, idx)
);
CREATE TABLE IF NOT EXISTS webhooks (
    webhook_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    retry_count INTEGER NOT NULL,
    timeout_seconds REAL NOT NULL,
    created_at REAL NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass
class WebhookRecord:
    """A registered webhook (its secret signs deliveries, so it is stored as given)."""

    webhook_id: str
    url: str
    events: tuple[str, ...]
    secret: str
    retry_count: int
    timeout_seconds: float
    created_at: float
    delivered: int = 0
    failed: int = 0


class JobStore:
    """Jobs, items and webhooks in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Closes the file."""
        with self._lock:
            self._db.close()

    # Jobs

    def next_seq(self) -> int:
        """A submission number larger than any stored (first come first served within a priority)."""
        with self._lock:
            row = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM jobs").fetchone()
        return int(row[0]) + 1

    def insert(self, job: Job) -> None:
        """Stores a new job with its items, atomically."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.execute(
                    "INSERT INTO jobs (job_id, seq, job_type, state, config, error, created_at, started_at,"
                    " finished_at, callback) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        job.job_id,
                        job.seq,
                        job.job_type,
                        job.state.value,
                        json.dumps(job.config.to_json()),
                        None,
                        job.created_at,
                        job.started_at,
                        job.finished_at,
                        _callback_json(job.callback),
                    ),
                )
                self._db.executemany(
                    "INSERT INTO job_items (job_id, idx, spec, result) VALUES (?, ?, ?, ?)",
                    [
                        (job.job_id, r.index, json.dumps(vars(s)), json.dumps(r.to_json()))
                        for s, r in zip(job.items, job.results, strict=True)
                    ],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def update_job(self, job: Job) -> None:
        """Saves a job's state, error, times and callback status."""
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state = ?, error = ?, started_at = ?, finished_at = ?, callback = ?"
                " WHERE job_id = ?",
                (
                    job.state.value,
                    json.dumps(job.error.to_json()) if job.error else None,
                    job.started_at,
                    job.finished_at,
                    _callback_json(job.callback),
                    job.job_id,
                ),
            )

    def update_item(self, job_id: str, result: ItemResult) -> None:
        """Saves one item's outcome."""
        with self._lock:
            self._db.execute(
                "UPDATE job_items SET result = ? WHERE job_id = ? AND idx = ?",
                (json.dumps(result.to_json()), job_id, result.index),
            )

    def load(self, job_id: str) -> Job | None:
        """One job, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT job_id, seq, job_type, state, config, error, created_at, started_at, finished_at,"
                " callback FROM jobs WHERE job_id = ?",
                (job_id,),
            ).fetchone()
            if row is None:
                return None
            items = self._db.execute(
                "SELECT spec, result FROM job_items WHERE job_id = ? ORDER BY idx", (job_id,)
            ).fetchall()
        return _job_of(row, items)

    def unfinished(self) -> list[Job]:
        """Jobs queued or running when the service last stopped, in submission order."""
        with self._lock:
            ids = [
                r[0]
                for r in self._db.execute(
                    "SELECT job_id FROM jobs WHERE state IN (?, ?) ORDER BY seq",
                    (State.QUEUED.value, State.RUNNING.value),
                )
            ]
        return [job for job in (self.load(i) for i in ids) if job is not None]

    # Webhooks

    def add_webhook(self, hook: WebhookRecord) -> None:
        """Stores a webhook."""
        with self._lock:
            self._db.execute(
                "INSERT INTO webhooks (webhook_id, url, events, secret, retry_count, timeout_seconds,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    hook.webhook_id,
                    hook.url,
                    json.dumps(list(hook.events)),
                    hook.secret,
                    hook.retry_count,
                    hook.timeout_seconds,
                    hook.created_at,
                ),
            )

    def webhooks(self) -> list[WebhookRecord]:
        """Every webhook, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT webhook_id, url, events, secret, retry_count, timeout_seconds, created_at, delivered,"
                " failed FROM webhooks ORDER BY created_at"
            ).fetchall()
        return [
            WebhookRecord(
                r[0], r[1], tuple(json.loads(r[2])), r[3], int(r[4]), float(r[5]), float(r[6]), r[7], r[8]
            )
            for r in rows
        ]

    def delete_webhook(self, webhook_id: str) -> bool:
        """Removes a webhook; whether it existed."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM webhooks WHERE webhook_id = ?", (webhook_id,))
        return cursor.rowcount > 0

    def count_delivery(self, webhook_id: str, delivered: bool) -> None:
        """Counts one delivery outcome."""
        column = "delivered" if delivered else "failed"
        with self._lock:
            self._db.execute(
                f"UPDATE webhooks SET {column} = {column} + 1 WHERE webhook_id = ?", (webhook_id,)
            )


def _callback_json(callback: CallbackStatus | None) -> str | None:
    return json.dumps(vars(callback)) if callback else None


def _job_of(row: tuple, items: list[tuple]) -> Job:
    specs = [ItemSpec(**json.loads(spec)) for spec, _ in items]
    results = [ItemResult.from_json(json.loads(result)) for _, result in items]
    return Job(
        job_id=row[0],
        seq=int(row[1]),
        job_type=row[2],
        state=State(row[3]),
        config=JobConfig.from_json(json.loads(row[4])),
        error=ErrorInfo.from_json(json.loads(row[5])) if row[5] else None,
        created_at=float(row[6]),
        started_at=row[7],
        finished_at=row[8],
        callback=CallbackStatus(**json.loads(row[9])) if row[9] else None,
        items=specs,
        results=results,
    )
