"""Persistence of jobs, items and webhooks: one SQL store, on SQLite (the embedded default, one file
under the inference data directory) or PostgreSQL (:mod:`.pg_store`, shared by every replica).

The queue lives in the store, not in a process: a runner *claims* the best waiting job (priority,
then submission) with a lease that it renews while the job runs. A job whose lease runs out (its
replica died) is claimed again by another runner; a graceful stop hands its jobs back at once.
Every write of a running job is fenced on its owner, so a replica that lost its lease can no longer
change the job. Writes are single small rows (well under a millisecond on SQLite in WAL mode), so
they run inline on the event loop.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.common.stores import immediate_transaction
from services.inference.jobs import schema
from services.inference.jobs.records import (
    PRIORITIES,
    CallbackStatus,
    ErrorInfo,
    ItemResult,
    ItemSpec,
    Job,
    JobConfig,
    State,
)
from services.inference.plugins.config import PluginConfig

JOB_COLUMNS = (
    "job_id, seq, job_type, state, config, error, created_at, started_at, finished_at, callback, claims,"
    " cancel_requested"
)


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


@dataclass
class Claim:
    """A job a runner now owns, and what its previous owners left."""

    job: Job
    takeovers: int  # claims before this one that did not finish it (a replica died or stopped)
    cancel_requested: bool


class SqlJobStore:
    """The queries, written once with ``?`` placeholders; subclasses connect and run them."""

    #: Whether other processes may share this store (PostgreSQL), so jobs may move between them.
    shared = False
    dialect = schema.SQLITE
    #: Appended to the claim's SELECT: PostgreSQL skips rows another runner is claiming.
    lock_rows = ""

    def __init__(self) -> None:
        self._lock = threading.RLock()

    # What subclasses provide

    def run(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        raise NotImplementedError

    @contextmanager
    def transaction(self) -> Iterator[None]:
        raise NotImplementedError
        yield

    def close(self) -> None:
        """Closes the connection."""
        raise NotImplementedError

    def _migrate(self) -> None:
        with self.transaction():
            self.run(schema.VERSION_TABLE)
            row = self.run(
                "SELECT version FROM schema_migrations WHERE component = ?", (schema.COMPONENT,)
            ).fetchone()
            current = int(row[0]) if row else 0
            for version in range(current + 1, schema.LATEST + 1):
                for statement in self.dialect.statements(version):
                    self.run(statement)
            if current == 0:
                self.run(
                    "INSERT INTO schema_migrations (component, version) VALUES (?, ?)",
                    (schema.COMPONENT, schema.LATEST),
                )
            elif current < schema.LATEST:
                self.run(
                    "UPDATE schema_migrations SET version = ? WHERE component = ?",
                    (schema.LATEST, schema.COMPONENT),
                )

    @property
    def schema_version(self) -> int:
        """The migration the store is at."""
        row = self.run(
            "SELECT version FROM schema_migrations WHERE component = ?", (schema.COMPONENT,)
        ).fetchone()
        return int(row[0])

    # Jobs

    def insert(self, job: Job) -> None:
        """Stores a new job with its items, atomically."""
        with self.transaction():
            self.run(
                "INSERT INTO jobs (job_id, seq, job_type, state, config, error, created_at, started_at,"
                " finished_at, callback, priority, rank) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    PRIORITIES[job.config.priority],
                    job.created_at - job.config.head_start_seconds,
                ),
            )
            for spec, result in zip(job.items, job.results, strict=True):
                self.run(
                    "INSERT INTO job_items (job_id, idx, spec, result) VALUES (?, ?, ?, ?)",
                    (job.job_id, result.index, json.dumps(vars(spec)), json.dumps(result.to_json())),
                )

    def update_job(self, job: Job, owner: str) -> bool:
        """Saves a job's state, error, times and callback status; False when ``owner`` lost it."""
        cursor = self.run(
            "UPDATE jobs SET state = ?, error = ?, started_at = ?, finished_at = ?, callback = ?"
            " WHERE job_id = ? AND owner = ?",
            (
                job.state.value,
                json.dumps(job.error.to_json()) if job.error else None,
                job.started_at,
                job.finished_at,
                _callback_json(job.callback),
                job.job_id,
                owner,
            ),
        )
        return bool(cursor.rowcount)

    def update_item(self, job_id: str, result: ItemResult, owner: str) -> bool:
        """Saves one item's outcome; False when ``owner`` lost the job."""
        cursor = self.run(
            "UPDATE job_items SET result = ? WHERE job_id = ? AND idx = ?"
            " AND EXISTS (SELECT 1 FROM jobs WHERE job_id = ? AND owner = ?)",
            (json.dumps(result.to_json()), job_id, result.index, job_id, owner),
        )
        return bool(cursor.rowcount)

    def load(self, job_id: str) -> Job | None:
        """One job, or None."""
        found = self._load(job_id)
        return found[0] if found else None

    def _load(self, job_id: str) -> tuple[Job, int, bool] | None:
        with self._lock:
            row = self.run(f"SELECT {JOB_COLUMNS} FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            items = self.run(
                "SELECT spec, result FROM job_items WHERE job_id = ? ORDER BY idx", (job_id,)
            ).fetchall()
        return _job_of(row, items), int(row[10]), bool(row[11])

    def claim(self, owner: str, now: float, lease_seconds: float) -> Claim | None:
        """Takes the best claimable job (queued, or running with its lease run out) for ``owner``."""
        with self.transaction():
            row = self.run(
                "SELECT job_id FROM jobs WHERE state = ? OR (state = ? AND (owner IS NULL OR lease_until < ?))"
                f" ORDER BY priority DESC, rank, seq, job_id LIMIT 1{self.lock_rows}",
                (State.QUEUED.value, State.RUNNING.value, now),
            ).fetchone()
            if row is None:
                return None
            self.run(
                "UPDATE jobs SET state = ?, owner = ?, lease_until = ?, claims = claims + 1,"
                " started_at = COALESCE(started_at, ?) WHERE job_id = ?",
                (State.RUNNING.value, owner, now + lease_seconds, now, row[0]),
            )
            found = self._load(row[0])
        assert found is not None  # the row is locked by this transaction
        job, claims, cancel_requested = found
        return Claim(job, claims - 1, cancel_requested)

    def renew(self, owner: str, lease_until: float) -> dict[str, bool]:
        """Extends the lease of every running job ``owner`` holds; each one's cancel flag."""
        with self.transaction():
            self.run(
                "UPDATE jobs SET lease_until = ? WHERE owner = ? AND state = ?",
                (lease_until, owner, State.RUNNING.value),
            )
            rows = self.run(
                "SELECT job_id, cancel_requested FROM jobs WHERE owner = ? AND state = ?",
                (owner, State.RUNNING.value),
            ).fetchall()
        return {r[0]: bool(r[1]) for r in rows}

    def release(self, owner: str | None = None) -> int:
        """Hands running jobs back (all of them when ``owner`` is None), not counting the claim as a
        takeover; they stay ``running`` and any runner may claim them at once."""
        where, args = ("owner = ?", (owner,)) if owner is not None else ("owner IS NOT NULL", ())
        cursor = self.run(
            "UPDATE jobs SET owner = NULL, lease_until = 0,"
            f" claims = CASE WHEN claims > 0 THEN claims - 1 ELSE 0 END WHERE state = ? AND {where}",
            (State.RUNNING.value, *args),
        )
        return int(cursor.rowcount)

    def cancel_queued(self, job_id: str, owner: str, error: ErrorInfo, now: float) -> bool:
        """Cancels a job that no runner has claimed (it then belongs to ``owner``); False otherwise."""
        cursor = self.run(
            "UPDATE jobs SET state = ?, error = ?, finished_at = ?, owner = ? WHERE job_id = ? AND state = ?",
            (
                State.CANCELLED.value,
                json.dumps(error.to_json()),
                now,
                owner,
                job_id,
                State.QUEUED.value,
            ),
        )
        return bool(cursor.rowcount)

    def request_cancel(self, job_id: str) -> bool:
        """Flags a running job for its owner to cancel; False when it already finished."""
        cursor = self.run(
            "UPDATE jobs SET cancel_requested = 1 WHERE job_id = ? AND state IN (?, ?)",
            (job_id, State.QUEUED.value, State.RUNNING.value),
        )
        return bool(cursor.rowcount)

    def queue_position(self, job: Job) -> int:
        """Queued jobs that will run before this one."""
        priority = PRIORITIES[job.config.priority]
        rank = job.created_at - job.config.head_start_seconds
        row = self.run(
            "SELECT COUNT(*) FROM jobs WHERE state = ? AND job_id <> ? AND (priority > ? OR (priority = ?"
            " AND (rank < ? OR (rank = ? AND (seq < ? OR (seq = ? AND job_id < ?))))))",
            (State.QUEUED.value, job.job_id, priority, priority, rank, rank, job.seq, job.seq, job.job_id),
        ).fetchone()
        return int(row[0])

    def owner_of(self, job_id: str) -> str | None:
        """The runner holding a job (None when none does)."""
        row = self.run("SELECT owner FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return row[0] if row else None

    # Webhooks

    def add_webhook(self, hook: WebhookRecord) -> None:
        """Stores a webhook."""
        self.run(
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
        rows = self.run(
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
        cursor = self.run("DELETE FROM webhooks WHERE webhook_id = ?", (webhook_id,))
        return bool(cursor.rowcount)

    def count_delivery(self, webhook_id: str, delivered: bool) -> None:
        """Counts one delivery outcome."""
        column = "delivered" if delivered else "failed"
        self.run(f"UPDATE webhooks SET {column} = {column} + 1 WHERE webhook_id = ?", (webhook_id,))

    # Plugins

    def plugin_configs(self) -> dict[str, PluginConfig]:
        """The plugins loaded on the mesh and their configuration."""
        rows = self.run("SELECT plugin_id, enabled, priority, settings FROM plugin_configs").fetchall()
        return {r[0]: PluginConfig(bool(r[1]), int(r[2]), json.loads(r[3])) for r in rows}

    def save_plugin(self, plugin_id: str, config: PluginConfig, now: float) -> None:
        """Records a plugin as loaded with this configuration."""
        self.run(
            "INSERT INTO plugin_configs (plugin_id, enabled, priority, settings, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (plugin_id) DO UPDATE SET enabled = excluded.enabled, priority = excluded.priority,"
            " settings = excluded.settings, updated_at = excluded.updated_at",
            (
                plugin_id,
                int(config.enabled),
                config.priority,
                json.dumps(config.settings, sort_keys=True),
                now,
            ),
        )

    def delete_plugin(self, plugin_id: str) -> None:
        """Records a plugin as unloaded."""
        self.run("DELETE FROM plugin_configs WHERE plugin_id = ?", (plugin_id,))


class JobStore(SqlJobStore):
    """Jobs, items and webhooks in one SQLite file (one replica: the embedded default)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def run(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        with self._lock:
            return self._db.execute(sql, args)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock, immediate_transaction(self._db):
            yield

    def close(self) -> None:
        """Closes the file."""
        with self._lock:
            self._db.close()


def _callback_json(callback: CallbackStatus | None) -> str | None:
    return json.dumps(vars(callback)) if callback else None


def _job_of(row: tuple[Any, ...], items: list[tuple[Any, ...]]) -> Job:
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
