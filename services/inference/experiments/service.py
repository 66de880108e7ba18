"""The experiments' operations, transport-free: create, read with figures, stop, promote, feedback."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.common.errors import FailedPrecondition, InvalidInput, ModelNotFound, NotFound
from services.inference.experiments import stats
from services.inference.experiments.records import Experiment, new_experiment
from services.inference.experiments.router import ExperimentRouter
from services.inference.experiments.store import ExperimentStore


@dataclass(frozen=True)
class Report:
    """An experiment with its per-arm figures and the tests on its success metric."""

    experiment: Experiment
    figures: list[stats.ArmFigures]
    comparisons: list[stats.Comparison]


class Experiments:
    """Creates and reads experiments; the router applies them to generations."""

    def __init__(
        self,
        store: ExperimentStore,
        router: ExperimentRouter,
        resolve: Callable[[str], Awaitable[object]] | None = None,
    ) -> None:
        self.store = store
        self.router = router
        self.resolve = resolve  # the language models' catalog: every arm must be servable

    async def create(
        self, name: str, route_model: str, arms: list[tuple[str, str, float]], metric: str, duration: float
    ) -> Experiment:
        """Validates and starts an experiment (one running experiment per model name)."""
        experiment = new_experiment(name, route_model, arms, metric, duration)
        if self.resolve is not None:
            for index, arm in enumerate(experiment.arms):
                try:
                    await self.resolve(arm.model)
                except ModelNotFound as error:
                    error.details["field"] = f"models[{index}]"
                    raise
        await asyncio.to_thread(self.router.refresh)
        running = self.router.covering(experiment.route_model)
        if running is not None and running.state() == "running":
            raise FailedPrecondition(
                f"experiment {running.experiment_id!r} already splits {experiment.route_model!r}",
                details={"experiment_id": running.experiment_id, "route_model": experiment.route_model},
                suggestion="stop or promote it first",
            )
        await asyncio.to_thread(self.store.insert, experiment)
        await asyncio.to_thread(self.router.refresh)
        return experiment

    async def get(self, experiment_id: str) -> Experiment:
        """One experiment; NotFound naming the id."""
        experiment = await asyncio.to_thread(self.store.get, experiment_id)
        if experiment is None:
            raise NotFound(
                f"experiment {experiment_id!r} does not exist",
                details={"experiment_id": experiment_id},
                suggestion="use the id returned when the experiment was created",
            )
        return experiment

    async def report(self, experiment_id: str) -> Report:
        """The experiment, its figures and tests."""
        experiment = await self.get(experiment_id)
        events = await asyncio.to_thread(self.store.events, experiment_id)
        return Report(
            experiment,
            stats.figures(experiment, events),
            stats.compare(experiment, events, experiment.success_metric),
        )

    async def list(self) -> list[Experiment]:
        """Every experiment, newest first."""
        return await asyncio.to_thread(self.store.all)

    async def stop(self, experiment_id: str) -> Experiment:
        """Ends the split; the model name serves itself again."""
        experiment = await self.get(experiment_id)
        if not await asyncio.to_thread(self.store.finish, experiment_id, "stopped", "", ("running",)):
            raise FailedPrecondition(
                f"experiment {experiment_id!r} is {experiment.state()}, not running",
                details={"experiment_id": experiment_id, "status": experiment.state()},
            )
        await asyncio.to_thread(self.router.refresh)
        return await self.get(experiment_id)

    async def promote(self, experiment_id: str, arm: str) -> Experiment:
        """Ends the split in favour of ``arm`` (empty: the one the success metric favours)."""
        report = await self.report(experiment_id)
        experiment = report.experiment
        winner = experiment.arm(arm).name if arm else stats.favoured(experiment, report.comparisons)
        if not await asyncio.to_thread(
            self.store.finish, experiment_id, "promoted", winner, ("running", "stopped")
        ):
            raise FailedPrecondition(
                f"experiment {experiment_id!r} is already promoted", details={"experiment_id": experiment_id}
            )
        await asyncio.to_thread(self.store.demote_others, experiment.route_model, experiment_id)
        await asyncio.to_thread(self.router.refresh)
        return await self.get(experiment_id)

    async def feedback(self, request_id: str, score: float) -> tuple[str, str]:
        """Records a satisfaction score (0 to 1) for an answer an experiment routed."""
        if not (math.isfinite(score) and 0 <= score <= 1):
            raise InvalidInput(
                "score must be between 0 and 1", details={"field": "score", "provided": str(score)}
            )
        found = await asyncio.to_thread(self.store.feedback, request_id, score)
        if found is None:
            raise NotFound(
                f"no experiment routed request {request_id!r}",
                details={"request_id": request_id},
                suggestion="send the request_id of an answer served while the experiment ran",
            )
        return found
