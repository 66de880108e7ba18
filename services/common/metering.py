"""Usage records, sent to the auth service's ``MeteringService`` in batches, off the request path.

Each finished request (a generation, whatever its end: finished, failed or abandoned; a tensor
prediction; a synthesis or a transcription) leaves one record, keyed by its request id; the auth service stores a request id once, so a batch that is sent
again after a lost reply is not counted twice. Records wait in memory while the auth service is
unreachable (up to :attr:`MeteringSettings.queue_size`; the oldest are dropped beyond it, with a
log line) and are sent again at the next flush. A stop sends what is left.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import grpc

from meshserve.v1 import metering_pb2 as pb
from services.common.clients import call_metadata
from services.common.context import caller_var, current_request_id, tenant_var
from services.common.errors import MeshError

log = logging.getLogger("meshserve.metering")

#: Tells this process's record ids from another's (ids made here of a caller's request id).
PROCESS_TAG = os.urandom(3).hex()
#: Longest wait between tries while the auth service cannot take records.
MAX_RETRY_SECONDS = 10.0
#: Hears each budget threshold a flush crossed.
OnAlert = Callable[[pb.BudgetAlert], None]


class Meter:
    """Collects usage records and sends them in batches."""

    def __init__(
        self,
        stub: Callable[[], Any],
        *,
        flush_seconds: float,
        batch_size: int,
        queue_size: int,
        on_alert: OnAlert | None = None,
    ) -> None:
        self._make_stub = stub
        self._stub_made: Any = None
        self.flush_seconds = flush_seconds
        self.batch_size = batch_size
        self.queue_size = queue_size
        self.on_alert = on_alert
        self._queue: deque[pb.UsageRecord] = deque()
        self._pending_by_tenant: dict[str, int] = {}
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        self._ids = itertools.count()

    def record(self, record: pb.UsageRecord) -> None:
        """Queues one request's record (never blocks, never raises)."""
        if len(self._queue) >= self.queue_size:
            lost = self._queue.popleft()
            self._forget(lost)
            self.dropped += 1
            log.warning("usage queue full: a record was dropped", extra={"request_id": lost.request_id})
        self._queue.append(record)
        self._pending_by_tenant[record.tenant] = self._pending_by_tenant.get(record.tenant, 0) + 1

    def stub(self) -> Any:
        """The MeteringService stub, made on first use (in the event loop that serves)."""
        if self._stub_made is None:
            self._stub_made = self._make_stub()
        return self._stub_made

    def record_units(
        self, *, model: str, units: float, unit: str, started: float, outcome: str, request_id: str = ""
    ) -> None:
        """Queues the record of a request counted in units other than tokens (tensor elements,
        characters, audio seconds), under a record id of its own: one caller's request id may
        cover several such calls."""
        rid = f"{request_id or current_request_id()}/{next(self._ids)}-{PROCESS_TAG}"
        self.record(
            usage_record(
                request_id=rid, model=model, units=units, unit=unit, started=started, outcome=outcome
            )
        )

    def pending(self, tenant: str) -> bool:
        """Whether records of a tenant are waiting to be sent."""
        return self._pending_by_tenant.get(tenant, 0) > 0

    def start(self) -> None:
        """Starts the periodic flush."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="usage-meter")

    async def stop(self) -> None:
        """Stops the periodic flush and sends what is left (one try)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush()

    async def flush(self, timeout: float = 5.0) -> bool:
        """Sends every queued record; False when the auth service could not take them (they stay)."""
        async with self._lock:  # one flush at a time: a quota check waits for the one in flight
            while self._queue:
                batch = list(itertools.islice(self._queue, self.batch_size))
                try:
                    reply = await self.stub().RecordUsage(
                        pb.RecordUsageRequest(records=batch), timeout=timeout, metadata=call_metadata()
                    )
                except (grpc.aio.AioRpcError, MeshError, OSError) as error:
                    log.warning("usage records not sent yet (%d queued): %s", len(self._queue), error)
                    return False
                for _ in batch:
                    self._forget(self._queue.popleft())
                for alert in reply.alerts:
                    self._alert(alert)
        return True

    def _forget(self, record: pb.UsageRecord) -> None:
        left = self._pending_by_tenant.get(record.tenant, 1) - 1
        if left > 0:
            self._pending_by_tenant[record.tenant] = left
        else:
            self._pending_by_tenant.pop(record.tenant, None)

    def _alert(self, alert: pb.BudgetAlert) -> None:
        if self.on_alert is None:
            return
        try:
            self.on_alert(alert)
        except Exception:  # a listener's failure must not lose the records' acknowledgement
            log.exception("budget alert listener failed")

    async def _run(self) -> None:
        delay = self.flush_seconds
        while True:
            await asyncio.sleep(delay)
            if self._queue and not await self.flush():
                delay = min(MAX_RETRY_SECONDS, delay * 2)  # the auth service is away: back off
            else:
                delay = self.flush_seconds


def usage_record(
    *,
    request_id: str,
    model: str,
    started: float,
    outcome: str,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    units: float | None = None,
    unit: str = "tokens",
    surface: str = "",
) -> pb.UsageRecord:
    """One request's record, billed to the current call's tenant (``started`` is its
    ``time.perf_counter()`` at the start; ``units`` defaults to the tokens)."""
    tenant = tenant_var.get()
    return pb.UsageRecord(
        request_id=request_id,
        tenant=caller_var.get(),
        api_key_id=tenant.api_key_id,
        plan=tenant.plan,
        model=model,
        surface=surface or tenant.surface,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        unit=unit,
        units=float(prompt_tokens + completion_tokens) if units is None else float(units),
        latency_ms=round((time.perf_counter() - started) * 1000, 3),
        outcome=outcome,
        finished_at=time.time(),
    )
