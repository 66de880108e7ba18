"""The metering tables, in the portable SQL the auth stores write (see ``services.common.pg_sqldb``:
``REAL`` becomes ``DOUBLE PRECISION`` and ``?`` becomes ``%s`` on PostgreSQL).

``ON CONFLICT ... DO NOTHING`` / ``DO UPDATE`` is understood by SQLite (3.24 and later) and
PostgreSQL alike, so every insert below is one statement on both.
"""

from __future__ import annotations

SCHEMA = """
CREATE TABLE IF NOT EXISTS plans (
    name TEXT PRIMARY KEY,
    requests_per_hour BIGINT NOT NULL,
    monthly_tokens BIGINT NOT NULL,
    price_per_1k_tokens REAL NOT NULL,
    model_prices TEXT NOT NULL,
    priority INTEGER NOT NULL,
    monthly_fee_usd REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS usage (
    request_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    api_key_id TEXT NOT NULL,
    plan TEXT NOT NULL,
    model TEXT NOT NULL,
    surface TEXT NOT NULL,
    prompt_tokens BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    units REAL NOT NULL,
    unit TEXT NOT NULL,
    latency_ms REAL NOT NULL,
    outcome TEXT NOT NULL,
    finished_at REAL NOT NULL,
    cost_usd REAL NOT NULL,
    day TEXT NOT NULL,
    month TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_tenant_month ON usage (tenant, month);
CREATE INDEX IF NOT EXISTS usage_day ON usage (day);
CREATE TABLE IF NOT EXISTS budgets (
    tenant TEXT PRIMARY KEY,
    limit_usd REAL NOT NULL,
    alert_thresholds TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS budget_alerts (
    tenant TEXT NOT NULL,
    month TEXT NOT NULL,
    threshold INTEGER NOT NULL,
    limit_usd REAL NOT NULL,
    spent_usd REAL NOT NULL,
    crossed_at REAL NOT NULL,
    PRIMARY KEY (tenant, month, threshold)
);
CREATE INDEX IF NOT EXISTS budget_alerts_crossed ON budget_alerts (crossed_at);
"""
