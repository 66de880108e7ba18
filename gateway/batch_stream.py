"""The gateway's predictions to the inference service as messages of long-lived streams.

A grpc.aio unary call costs more than a message on an open stream, on each side: 0.27-0.39 ms
against 0.17 ms for a round trip on this machine (:mod:`services.common.multiplex`). So the gateway
sends its predictions as the messages of ``PredictBatchStream`` calls, each a batch with an id, and
matches the answers to their requests by id as they come, in any order.

The stream is an optimisation of the calls, never a second behaviour. A request the stream cannot
answer raises :class:`StreamUnavailable`, and its caller sends it as a call of its own, with that
path's retries and waiting for a restarting service. That happens when:

- no stream is open in its turn now: the last one broke or was ended by the service less than
  :data:`REOPEN_DELAY` seconds ago, or less than :data:`UNIMPLEMENTED_DELAY` seconds ago the
  service did not know the method (a replica from before it, in a rolling upgrade);
- the stream ends or breaks before the answer comes: a service that drains ends its streams after
  answering what it read, so a request it did not answer was not started.

Predictions are idempotent, as the calls that the gateway retries already treat them.

Requests take turns over a few streams (``MESHSERVE_GATEWAY_PREDICT_STREAMS``), each opened through
the channel's round robin, so consecutive requests reach different inference replicas as calls do. A
stream is retired after :data:`MAX_MESSAGES` requests or :data:`MAX_AGE` seconds, and its turn opens
a new one, so the spread follows replicas that come and go; the retired stream answers what it has
and closes. (A stream that idled past its age is not used again either, so a proxy's idle timeout
does not cut one in use.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from contextvars import Context
from typing import TypeAlias

import grpc

from gateway.coalesce import Send, SendBatch
from meshserve.v1 import inference_pb2 as ipb
from services.common.clients import context_metadata
from services.common.errors import DeadlineExceeded, InternalError, MeshError

log = logging.getLogger("meshserve.gateway.batch_stream")

#: Streams requests take turns over, by default.
STREAMS = 4
#: Requests one stream carries before it is retired.
MAX_MESSAGES = 2000
#: Seconds one stream lives before it is retired.
MAX_AGE = 10.0
#: Seconds to wait, after a stream broke or the service ended it, before opening another.
REOPEN_DELAY = 1.0
#: Seconds to wait after a service answered that it does not know the method.
UNIMPLEMENTED_DELAY = 60.0

Call: TypeAlias = grpc.aio.StreamStreamCall[ipb.PredictBatchStreamRequest, ipb.PredictBatchStreamResponse]
Opener = Callable[[], Call]


class StreamUnavailable(Exception):
    """The stream did not answer this request (and did not start it): send it as a call instead."""


class _Link:
    """One open stream: its call, what it waits for, and how much it has carried.

    Only its writer task writes to the call: a write cancelled part-way cancels the whole call in
    grpc.aio, so a request whose client leaves must never be the one writing."""

    def __init__(self, call: Call, turn: int) -> None:
        self.call = call
        #: Its place in the turns.
        self.turn = turn
        self.waiting: dict[int, asyncio.Future[ipb.PredictBatchResponse]] = {}
        #: What the writer sends, in order; None: half-close.
        self.outbox: asyncio.Queue[ipb.PredictBatchStreamRequest | None] = asyncio.Queue()
        self.sent = 0
        self.opened = time.monotonic()
        self.retired = False

    @property
    def worn(self) -> bool:
        """Whether it has carried enough, or lived long enough, to be retired."""
        return self.sent >= MAX_MESSAGES or time.monotonic() - self.opened >= MAX_AGE


class BatchStream:
    """``PredictBatch`` over the messages of ``streams`` ``PredictBatchStream`` calls that ``open``
    starts, taking turns."""

    def __init__(self, open: Opener, streams: int = STREAMS) -> None:
        self.open = open
        self.links: list[_Link | None] = [None] * max(1, streams)
        self.turns = 0
        self.next_id = 0
        #: No stream is opened before this (monotonic seconds).
        self.closed_until = 0.0
        #: Each link's reader and writer, held until done (the loop keeps only weak references).
        self.tasks: set[asyncio.Task[None]] = set()

    async def send(self, batch: ipb.PredictBatchRequest, timeout: float) -> ipb.PredictBatchResponse:
        """The batch's answer; :class:`StreamUnavailable` when the stream cannot give it (see the
        module), DeadlineExceeded when it does not come within ``timeout`` seconds."""
        link = self._usable_link()
        self.next_id += 1
        request_id = self.next_id
        answer = asyncio.get_running_loop().create_future()
        link.waiting[request_id] = answer
        link.sent += 1
        link.outbox.put_nowait(ipb.PredictBatchStreamRequest(id=request_id, batch=batch))
        if link.worn:
            self._retire(link)
        try:
            async with asyncio.timeout(timeout):
                return await answer
        except TimeoutError:
            link.waiting.pop(request_id, None)
            self._retire(link)  # it may be stuck on a connection that died silently: use a fresh one
            raise DeadlineExceeded("the inference service did not answer in time") from None

    def close(self) -> None:
        """Ends the streams: what they carry is still answered."""
        for link in self.links:
            if link is not None:
                self._retire(link)

    def _usable_link(self) -> _Link:
        turn = self.turns % len(self.links)
        self.turns += 1
        link = self.links[turn]
        if link is not None and not link.retired:
            if not link.worn:
                return link
            self._retire(link)  # an idle one past its age too, before a proxy's idle timeout cuts it
        if time.monotonic() < self.closed_until:
            raise StreamUnavailable("no prediction stream is open")
        # In a context of its own: the stream is no request's (each batch item carries its own).
        link = Context().run(lambda: _Link(self.open(), turn))
        for work in (self._read(link), self._write(link)):
            task = asyncio.get_running_loop().create_task(work, context=Context())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        self.links[turn] = link
        return link

    async def _write(self, link: _Link) -> None:
        """Sends the link's messages in order, then half-closes it."""
        try:
            while (message := await link.outbox.get()) is not None:
                await link.call.write(message)
            await link.call.done_writing()
        except grpc.RpcError as error:
            self._lost(link, error)
        except (asyncio.InvalidStateError, grpc.aio.UsageError):  # the call has ended
            self._lost(link, None)

    async def _read(self, link: _Link) -> None:
        """Hands each answer to its request until the stream ends; then what it did not answer
        goes as calls."""
        error: grpc.RpcError | None = None
        try:
            while True:
                message = await link.call.read()
                if message is grpc.aio.EOF:
                    break
                answer = link.waiting.pop(message.id, None)
                if answer is not None and not answer.done():
                    answer.set_result(message.batch)
        except grpc.RpcError as failure:
            error = failure
        finally:  # cancelled too: the gateway stops
            self._lost(link, error)

    def _retire(self, link: _Link) -> None:
        """Sends no more on it; it answers what it has, then ends."""
        if link.retired:
            return
        link.retired = True
        self._forget(link)
        link.outbox.put_nowait(None)

    def _forget(self, link: _Link) -> None:
        if self.links[link.turn] is link:
            self.links[link.turn] = None

    def _lost(self, link: _Link, error: grpc.RpcError | None) -> None:
        """The stream ended or broke: its unanswered requests go as calls, and, unless the gateway
        itself retired it or it carried nothing, no stream opens for a while."""
        if not link.retired:
            link.retired = True
            unknown = (
                isinstance(error, grpc.aio.AioRpcError) and error.code() is grpc.StatusCode.UNIMPLEMENTED
            )
            if unknown or link.waiting:
                self.closed_until = time.monotonic() + (UNIMPLEMENTED_DELAY if unknown else REOPEN_DELAY)
            log.info(
                "prediction stream ended",
                extra={"error": str(error) if error else "", "unanswered": len(link.waiting)},
            )
        self._forget(link)
        link.outbox.put_nowait(None)  # the writer stops, if it still waits
        for answer in link.waiting.values():
            if not answer.done():
                answer.set_exception(StreamUnavailable("the prediction stream ended before answering"))
        link.waiting.clear()


class StreamedPredictions:
    """The coalescer's two sends (:class:`gateway.coalesce.PredictCoalescer`) as messages of a
    :class:`BatchStream`, and as calls where the stream cannot carry them (or there is none)."""

    def __init__(self, stream: BatchStream | None, call_one: Send, call_batch: SendBatch) -> None:
        self.stream = stream
        self.call_one, self.call_batch = call_one, call_batch

    async def one(self, request: ipb.PredictRequest, timeout: float) -> ipb.PredictResponse:
        """One prediction, in the current request's context (a batch of one that carries it)."""
        if self.stream is None:
            return await self.call_one(request, timeout)
        item = ipb.PredictBatchItem(
            request=request, metadata=dict(context_metadata()), timeout_seconds=timeout
        )
        try:
            reply = await self.stream.send(ipb.PredictBatchRequest(items=[item]), timeout)
        except StreamUnavailable:
            return await self.call_one(request, timeout)
        if len(reply.outcomes) != 1:
            raise InternalError(f"{len(reply.outcomes)} outcomes came back for 1 prediction")
        outcome = reply.outcomes[0]
        if outcome.HasField("error"):
            raise MeshError.from_call_error(outcome.error)
        return outcome.response

    async def batch(self, batch: ipb.PredictBatchRequest, timeout: float) -> ipb.PredictBatchResponse:
        """A batch's outcomes, one per item."""
        if self.stream is None:
            return await self.call_batch(batch, timeout)
        try:
            return await self.stream.send(batch, timeout)
        except StreamUnavailable:
            return await self.call_batch(batch, timeout)
