"""Experiments and their events in the inference store (SQLite, or PostgreSQL shared by every
replica): one row per experiment, one per request it routed (feedback joins that row later)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from services.inference.experiments.records import Arm, Experiment
from services.inference.jobs.store import SqlJobStore

COLUMNS = "experiment_id, name, route_model, arms, status, success_metric, created_at, ends_at, winner"


@dataclass(frozen=True)
class Event:
    """What one routed request did."""

    request_id: str
    experiment_id: str
    arm: str
    caller: str
    ok: bool
    latency_ms: float
    completion_tokens: int
    at: float


@dataclass(frozen=True)
class ArmEvents:
    """Everything recorded for one arm."""

    latencies_ms: list[float]
    errors: int
    completion_tokens: int
    feedback: list[float]
    callers: int


class ExperimentStore:
    """Reads and writes experiments through the inference store's connection."""

    def __init__(self, db: SqlJobStore) -> None:
        self.db = db

    def insert(self, experiment: Experiment) -> None:
        """Stores a new experiment."""
        self.db.run(
            f"INSERT INTO experiments ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                experiment.experiment_id,
                experiment.name,
                experiment.route_model,
                json.dumps([vars(a) for a in experiment.arms]),
                experiment.status,
                experiment.success_metric,
                experiment.created_at,
                experiment.ends_at,
                experiment.winner,
            ),
        )

    def get(self, experiment_id: str) -> Experiment | None:
        """One experiment, or None."""
        row = self.db.run(
            f"SELECT {COLUMNS} FROM experiments WHERE experiment_id = ?", (experiment_id,)
        ).fetchone()
        return _experiment(row) if row else None

    def all(self) -> list[Experiment]:
        """Every experiment, newest first."""
        rows = self.db.run(f"SELECT {COLUMNS} FROM experiments ORDER BY created_at DESC").fetchall()
        return [_experiment(r) for r in rows]

    def routing(self) -> list[Experiment]:
        """Experiments that decide what a model name serves: running, or promoted."""
        rows = self.db.run(
            f"SELECT {COLUMNS} FROM experiments WHERE status IN ('running', 'promoted') ORDER BY created_at DESC"
        ).fetchall()
        return [_experiment(r) for r in rows]

    def finish(self, experiment_id: str, status: str, winner: str, only_from: tuple[str, ...]) -> bool:
        """Moves an experiment to ``status`` if it is in one of ``only_from``; whether it was."""
        marks = ", ".join("?" * len(only_from))
        cursor = self.db.run(
            f"UPDATE experiments SET status = ?, winner = ? WHERE experiment_id = ? AND status IN ({marks})",
            (status, winner, experiment_id, *only_from),
        )
        return bool(cursor.rowcount)

    def demote_others(self, route_model: str, keep: str) -> None:
        """Ends earlier promotions of the same model name (the newest promotion decides)."""
        self.db.run(
            "UPDATE experiments SET status = 'stopped' WHERE route_model = ? AND status = 'promoted'"
            " AND experiment_id <> ?",
            (route_model, keep),
        )

    def record(self, event: Event) -> None:
        """Stores one routed request (a repeated request id is ignored: one row per request)."""
        self.db.run(
            "INSERT INTO experiment_events (request_id, experiment_id, arm, caller, ok, latency_ms,"
            " completion_tokens, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_id) DO NOTHING",
            (
                event.request_id,
                event.experiment_id,
                event.arm,
                event.caller,
                int(event.ok),
                event.latency_ms,
                event.completion_tokens,
                event.at,
            ),
        )

    def feedback(self, request_id: str, score: float) -> tuple[str, str] | None:
        """Attaches a score to a routed request; its (experiment, arm), or None when none routed it."""
        with self.db.transaction():
            row = self.db.run(
                "SELECT experiment_id, arm FROM experiment_events WHERE request_id = ?", (request_id,)
            ).fetchone()
            if row is None:
                return None
            self.db.run("UPDATE experiment_events SET feedback = ? WHERE request_id = ?", (score, request_id))
        return str(row[0]), str(row[1])

    def events(self, experiment_id: str) -> dict[str, ArmEvents]:
        """Every arm's recorded requests."""
        rows = self.db.run(
            "SELECT arm, caller, ok, latency_ms, completion_tokens, feedback FROM experiment_events"
            " WHERE experiment_id = ?",
            (experiment_id,),
        ).fetchall()
        grouped: dict[str, list[tuple[str, bool, float, int, float | None]]] = {}
        for arm, caller, ok, latency, tokens, feedback in rows:
            grouped.setdefault(arm, []).append((caller, bool(ok), float(latency), int(tokens), feedback))
        return {
            arm: ArmEvents(
                latencies_ms=[r[2] for r in items if r[1]],
                errors=sum(1 for r in items if not r[1]),
                completion_tokens=sum(r[3] for r in items),
                feedback=[float(r[4]) for r in items if r[4] is not None],
                callers=len({r[0] for r in items if r[0]}),
            )
            for arm, items in grouped.items()
        }


def _experiment(row: tuple[Any, ...]) -> Experiment:
    arms = tuple(Arm(**a) for a in json.loads(str(row[3])))
    return Experiment(
        experiment_id=str(row[0]),
        name=str(row[1]),
        route_model=str(row[2]),
        arms=arms,
        status=str(row[4]),
        success_metric=str(row[5]),
        created_at=float(row[6]),
        ends_at=float(row[7]) if row[7] is not None else None,
        winner=str(row[8]),
    )
