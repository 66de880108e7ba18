"""The job store's schema as plain versioned SQL, applied in order and recorded in
``schema_migrations``, for SQLite and PostgreSQL alike.

Each migration is one transaction: a store opened against an older file or database brings it up to
date, and a failure leaves the previous version intact. ``{real}`` and ``{bigint}`` stand for the
dialect's double-precision and 64-bit integer types (SQLite's REAL and INTEGER already are).
"""

from __future__ import annotations

from dataclasses import dataclass

COMPONENT = "inference.jobs"

#: Version N is ``MIGRATIONS[N - 1]``. Never edit a released entry: append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: jobs, their items and webhooks (the single-replica schema).
    (
        """CREATE TABLE IF NOT EXISTS jobs (
            job_id TEXT PRIMARY KEY,
            seq {bigint} NOT NULL,
            job_type TEXT NOT NULL,
            state TEXT NOT NULL,
            config TEXT NOT NULL,
            error TEXT,
            created_at {real} NOT NULL,
            started_at {real},
            finished_at {real},
            callback TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state)",
        """CREATE TABLE IF NOT EXISTS job_items (
            job_id TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            spec TEXT NOT NULL,
            result TEXT NOT NULL,
            PRIMARY KEY (job_id, idx)
        )""",
        """CREATE TABLE IF NOT EXISTS webhooks (
            webhook_id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            secret TEXT NOT NULL,
            retry_count INTEGER NOT NULL,
            timeout_seconds {real} NOT NULL,
            created_at {real} NOT NULL,
            delivered INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0
        )""",
    ),
    # 2: several replicas share the queue. A runner claims a job with a lease it renews; a job whose
    # lease runs out is claimed again elsewhere (``claims`` counts the takeovers); a cancel asked of
    # another replica is a flag its owner sees at the next renewal.
    (
        "ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 2",
        "ALTER TABLE jobs ADD COLUMN owner TEXT",
        "ALTER TABLE jobs ADD COLUMN lease_until {real} NOT NULL DEFAULT 0",
        "ALTER TABLE jobs ADD COLUMN claims INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX IF NOT EXISTS jobs_claim ON jobs (state, priority, seq)",
        "CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner)",
    ),
    # 3: the plugins loaded and their configuration, which every replica applies.
    (
        """CREATE TABLE IF NOT EXISTS plugin_configs (
            plugin_id TEXT PRIMARY KEY,
            enabled INTEGER NOT NULL,
            priority INTEGER NOT NULL,
            settings TEXT NOT NULL,
            updated_at {real} NOT NULL
        )""",
    ),
    # 4: A/B experiments and what each request routed through one did.
    (
        """CREATE TABLE IF NOT EXISTS experiments (
            experiment_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            route_model TEXT NOT NULL,
            arms TEXT NOT NULL,
            status TEXT NOT NULL,
            success_metric TEXT NOT NULL,
            created_at {real} NOT NULL,
            ends_at {real},
            winner TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX IF NOT EXISTS experiments_route ON experiments (route_model, status)",
        """CREATE TABLE IF NOT EXISTS experiment_events (
            request_id TEXT PRIMARY KEY,
            experiment_id TEXT NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
            arm TEXT NOT NULL,
            caller TEXT NOT NULL,
            ok INTEGER NOT NULL,
            latency_ms {real} NOT NULL,
            completion_tokens INTEGER NOT NULL,
            at {real} NOT NULL,
            feedback {real}
        )""",
        "CREATE INDEX IF NOT EXISTS experiment_events_arm ON experiment_events (experiment_id, arm)",
    ),
    # 5: fine-tuning runs.
    (
        """CREATE TABLE IF NOT EXISTS fine_tunes (
            fine_tune_id TEXT PRIMARY KEY,
            status TEXT NOT NULL,
            base_model TEXT NOT NULL,
            output_name TEXT NOT NULL,
            output_version TEXT NOT NULL DEFAULT '',
            progress TEXT NOT NULL,
            dataset_sha256 TEXT NOT NULL,
            config TEXT NOT NULL,
            created_at {real} NOT NULL,
            finished_at {real},
            error TEXT NOT NULL DEFAULT ''
        )""",
    ),
    # 6: within a priority level, a premium submitter's job is ranked ahead by a head start (aging:
    # a job that has waited longer than the head start still goes first).
    (
        "ALTER TABLE jobs ADD COLUMN rank {real} NOT NULL DEFAULT 0",
        "UPDATE jobs SET rank = created_at",
    ),
    # 7: which replica runs a fine-tune, its lease, and a cancel asked through another replica
    # (services/inference/finetune/leases.py).
    (
        "ALTER TABLE fine_tunes ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE fine_tunes ADD COLUMN lease_until {real} NOT NULL DEFAULT 0",
        "ALTER TABLE fine_tunes ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0",
    ),
    # 8: stored generations (the Responses API's stored responses), each readable by its owner only;
    # ``record`` is the StoredGeneration message as protobuf JSON.
    (
        """CREATE TABLE IF NOT EXISTS stored_generations (
            id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            created_at {real} NOT NULL,
            record TEXT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS stored_generations_created ON stored_generations (created_at)",
    ),
    # 9: conversations and their items, in order (``message``: the ChatMessage as protobuf JSON).
    (
        """CREATE TABLE IF NOT EXISTS conversations (
            id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            created_at {real} NOT NULL,
            metadata TEXT NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS conversation_items (
            conversation_id TEXT NOT NULL,
            seq {bigint} NOT NULL,
            item_id TEXT NOT NULL,
            message TEXT NOT NULL,
            PRIMARY KEY (conversation_id, seq)
        )""",
        "CREATE UNIQUE INDEX IF NOT EXISTS conversation_items_id ON conversation_items (conversation_id, item_id)",
    ),
)


@dataclass(frozen=True)
class Dialect:
    """What differs between the two databases in the schema."""

    real: str
    bigint: str

    def statements(self, version: int) -> list[str]:
        """Migration ``version``'s statements in this dialect."""
        return [s.format(real=self.real, bigint=self.bigint) for s in MIGRATIONS[version - 1]]


SQLITE = Dialect(real="REAL", bigint="INTEGER")
POSTGRES = Dialect(real="DOUBLE PRECISION", bigint="BIGINT")
LATEST = len(MIGRATIONS)

VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
)
