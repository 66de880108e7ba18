"""The plan table as the auth service holds it, read every few seconds: admins' edits of a plan's
priority reach the inference queues without a restart. Until the first read succeeds (or while
the auth service is away) the last table read, else the shipped plans, stand."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import grpc

from meshserve.v1 import metering_pb2 as pb
from services.common.clients import call_metadata
from services.common.errors import MeshError
from services.common.plans import DEFAULT_PLANS
from services.inference import priority

log = logging.getLogger("meshserve.inference.metering")


class PlanBook:
    """Plan priorities, refreshed from ``MeteringService.ListPlans``."""

    def __init__(self, stub: Callable[[], Any], refresh_seconds: float) -> None:
        self._stub = stub
        self.refresh_seconds = refresh_seconds
        self.priorities = {name: plan.priority for name, plan in DEFAULT_PLANS.items()}
        self._task: asyncio.Task[None] | None = None

    def priority_of(self, plan: str) -> int:
        """A plan's priority (0 for one the table does not hold)."""
        return self.priorities.get(plan, 0)

    async def refresh(self) -> bool:
        """Reads the table once; False when the auth service could not answer."""
        try:
            reply = await self._stub().ListPlans(pb.ListPlansRequest(), timeout=2.0, metadata=call_metadata())
        except (grpc.aio.AioRpcError, MeshError, OSError) as error:
            log.debug("plan table not read: %s", error)
            return False
        self.priorities = {plan.name: plan.priority for plan in reply.plans}
        return True

    def start(self) -> None:
        """Makes the queues follow this table, and starts refreshing it."""
        priority.use_plans(self.priority_of)
        self._task = asyncio.create_task(self._follow(), name="plan-book")

    async def stop(self) -> None:
        """Stops refreshing (the queues go back to the shipped plans)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        priority.use_plans(None)

    async def _follow(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.refresh_seconds)
