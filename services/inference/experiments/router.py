"""Routing inside the generation pipeline: a request for a model name that a running experiment
splits goes to the caller's arm; one that a promoted experiment decided goes to the winner.

The routing table is the store's running and promoted experiments, re-read every
``refresh_seconds`` (so an experiment created, stopped or promoted through any replica takes effect
everywhere within that), and at once on this replica's own changes. Each routed request's outcome
(ok or failed, latency, tokens) is written to the store off the request path.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

from services.inference.experiments.assign import choose
from services.inference.experiments.records import Experiment
from services.inference.experiments.store import Event, ExperimentStore

log = logging.getLogger("meshserve.inference.experiments")


@dataclass(frozen=True)
class Routed:
    """Where one request went."""

    experiment_id: str
    arm: str
    model: str
    caller: str
    request_id: str


class ExperimentRouter:
    """Decides arms and records outcomes."""

    def __init__(self, store: ExperimentStore, refresh_seconds: float = 1.0) -> None:
        self.store = store
        self.refresh_seconds = refresh_seconds
        self._table: dict[str, Experiment] = {}
        self._read_at = 0.0
        self._writes: set[asyncio.Task[None]] = set()

    def refresh(self) -> None:
        """Re-reads the routing table (the newest experiment per model name wins)."""
        table: dict[str, Experiment] = {}
        for experiment in self.store.routing():  # newest first
            if experiment.state() in ("running", "promoted"):
                table.setdefault(experiment.route_model, experiment)
        self._table, self._read_at = table, time.monotonic()

    def covering(self, model: str) -> Experiment | None:
        """The experiment that decides what ``model`` serves now, if any (as last read)."""
        return self._table.get(model)

    def _current(self) -> dict[str, Experiment]:
        """The routing table, re-read when older than ``refresh_seconds``."""
        if time.monotonic() - self._read_at > self.refresh_seconds:
            try:
                self.refresh()
            except Exception:  # the store is unreachable: keep the table we have
                log.exception("experiment table not refreshed")
        return self._table

    def promoted_to(self, model: str) -> str | None:
        """The model that a promoted experiment serves under ``model``'s name, if one does."""
        experiment = self._current().get(model)
        if experiment is None or experiment.state() != "promoted":
            return None
        return experiment.arm(experiment.winner).model

    def route(self, model: str, caller: str, request_id: str) -> Routed | None:
        """The arm for this request, or None when no experiment covers ``model``."""
        experiment = self._current().get(model)
        if experiment is None:
            return None
        if experiment.state() == "promoted":
            winner = experiment.arm(experiment.winner)
            return Routed(experiment.experiment_id, winner.name, winner.model, caller, "")
        if experiment.state() != "running":
            return None
        arm = choose(experiment.experiment_id, caller or request_id, experiment.arms)
        return Routed(experiment.experiment_id, arm.name, arm.model, caller, request_id)

    async def observed(
        self, chunks: AsyncIterator[Any], routed: Routed, choices: int = 1
    ) -> AsyncGenerator[Any, None]:
        """Passes the chunks through and records the request's outcome when it ends: succeeded
        (every one of its ``choices`` finished), or failed with an error. A caller that leaves early is not an outcome; a promoted route (no
        request id) is not recorded: the experiment is over."""
        started = time.perf_counter()
        ok: bool | None = None  # None: the caller went away before the end (not an outcome)
        tokens = finished = 0
        try:
            async for chunk in chunks:
                if chunk.finish_reason:
                    tokens += chunk.completion_tokens
                    finished += 1
                    if finished >= choices:  # done, even if the reader closes before the end
                        ok = True
                yield chunk
            ok = True
        except (GeneratorExit, asyncio.CancelledError):
            raise
        except Exception:
            ok = False
            raise
        finally:
            if routed.request_id and ok is not None:
                self._write(
                    Event(
                        request_id=routed.request_id,
                        experiment_id=routed.experiment_id,
                        arm=routed.arm,
                        caller=routed.caller,
                        ok=ok,
                        latency_ms=(time.perf_counter() - started) * 1000,
                        completion_tokens=tokens,
                        at=time.time(),
                    )
                )

    def _write(self, event: Event) -> None:
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(self.store.record, event))
        self._writes.add(task)
        task.add_done_callback(self._written)

    def _written(self, task: asyncio.Task[None]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("experiment event not recorded", extra={"error": str(task.exception())})

    async def drain(self) -> None:
        """Waits for the outcome writes in flight (at shutdown)."""
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
