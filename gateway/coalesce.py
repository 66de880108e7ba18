"""Tensor predictions to the inference service, coalesced under concurrency.

A Python gRPC call costs about as much CPU on each side as the prediction it carries (grpc.aio's call
set-up and its server machinery; README, Benchmarks). So the gateway keeps a few calls in flight at
most: a prediction that finds a free one is sent at once as a ``Predict`` call of its own (a lone
request pays nothing for this), and those that arrive while every call is busy wait for the next one
to end and go together, as one ``PredictBatch`` call. Nothing waits for a batch to fill: a batch is
what queued while the calls ran, so the coalescing follows the load (Nagle-free "natural batching").

Each request of a batch carries its own call context (request id, caller, tenant, trace, deadline)
and gets its own outcome: the inference service runs the items concurrently, as if each had come in
a call of its own, and one item's error is raised for that request only. A request whose client has
gone is dropped from the queue before it is sent. An inference service from before ``PredictBatch``
(a rolling upgrade) answers it UNIMPLEMENTED: then every prediction goes as a call of its own again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextvars import Context
from dataclasses import dataclass, field

from prometheus_client import Histogram

from meshserve.v1 import inference_pb2 as ipb
from services.common.clients import context_metadata
from services.common.context import remaining_seconds
from services.common.errors import InternalError, MeshError, NotImplementedYet

BATCH_ITEMS = Histogram(
    "meshserve_gateway_predict_batch_items",
    "Predictions the gateway sent to the inference service in one call (1: a Predict call of its own)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)

#: One call: the request, its timeout in seconds.
Send = Callable[[ipb.PredictRequest, float], Awaitable[ipb.PredictResponse]]
SendBatch = Callable[[ipb.PredictBatchRequest, float], Awaitable[ipb.PredictBatchResponse]]


@dataclass
class _Waiting:
    item: ipb.PredictBatchItem
    deadline: float
    #: The response, the error, or None: send it as a call of its own.
    reply: asyncio.Future[ipb.PredictResponse | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class PredictCoalescer:
    """At most ``calls`` predict calls in flight; what queues meanwhile goes as one batch call of at
    most ``max_items`` requests."""

    def __init__(self, send: Send, send_batch: SendBatch, calls: int, max_items: int = 64) -> None:
        self.send, self.send_batch = send, send_batch
        self.calls = max(1, calls)
        self.max_items = max(1, max_items)
        self.in_flight = 0
        self.queue: list[_Waiting] = []
        self.sending: set[asyncio.Task[None]] = set()
        #: False once the inference service answered PredictBatch UNIMPLEMENTED.
        self.batches = True

    async def predict(self, request: ipb.PredictRequest, timeout: float) -> ipb.PredictResponse:
        """The response to one prediction; raises :class:`MeshError` with the error it met."""
        timeout = remaining_seconds(timeout)
        if not self.batches:
            BATCH_ITEMS.observe(1)
            return await self.send(request, timeout)
        if self.in_flight < self.calls and not self.queue:
            self.in_flight += 1
            BATCH_ITEMS.observe(1)
            try:
                return await self.send(request, timeout)
            finally:
                self._call_ended()
        item = ipb.PredictBatchItem(
            request=request, metadata=dict(context_metadata()), timeout_seconds=timeout
        )
        waiting = _Waiting(item, time.monotonic() + timeout)
        self.queue.append(waiting)
        reply = await waiting.reply
        if reply is None:  # in this request's own context, so its call carries its metadata
            return await self.send(
                request, remaining_seconds(max(0.001, waiting.deadline - time.monotonic()))
            )
        return reply

    def _call_ended(self) -> None:
        self.in_flight -= 1
        while self.queue and self.in_flight < self.calls:
            batch = [w for w in self.queue[: self.max_items] if not w.reply.done()]  # done: its client left
            del self.queue[: self.max_items]
            if batch:
                self.in_flight += 1
                # In a context of its own: the batch is nobody's request (each item carries its own).
                task = asyncio.get_running_loop().create_task(self._send_batch(batch), context=Context())
                self.sending.add(task)  # held until done: the loop keeps only a weak reference
                task.add_done_callback(self.sending.discard)

    async def _send_batch(self, batch: list[_Waiting]) -> None:
        BATCH_ITEMS.observe(len(batch))
        now = time.monotonic()
        for waiting in batch:  # the time it waited in the queue counts against its deadline
            waiting.item.timeout_seconds = max(0.001, waiting.deadline - now)
        timeout = max(w.item.timeout_seconds for w in batch)
        try:
            reply = await self.send_batch(ipb.PredictBatchRequest(items=[w.item for w in batch]), timeout)
            if len(reply.outcomes) != len(batch):
                raise InternalError(f"{len(reply.outcomes)} outcomes came back for {len(batch)} predictions")
        except NotImplementedYet:  # an inference service without PredictBatch: calls of their own
            self.batches = False
            for waiting in batch:
                if not waiting.reply.done():
                    waiting.reply.set_result(None)
        except Exception as error:
            failed = error if isinstance(error, MeshError) else InternalError(f"internal error: {error}")
            for waiting in batch:
                if not waiting.reply.done():
                    waiting.reply.set_exception(failed)
        else:
            for waiting, outcome in zip(batch, reply.outcomes, strict=True):
                if waiting.reply.done():
                    continue
                if outcome.HasField("error"):
                    waiting.reply.set_exception(MeshError.from_call_error(outcome.error))
                else:
                    waiting.reply.set_result(outcome.response)
        finally:
            self._call_ended()
