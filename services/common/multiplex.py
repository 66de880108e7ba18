"""Requests multiplexed over one bidirectional stream, answered concurrently, in any order.

A grpc.aio unary call costs its client and its server more than a message on an open stream (no call
set-up, metadata or deadline): on this machine ``bench/grpc_floor.py`` measured a unary round trip at
0.27-0.39 ms p50 and one through this module and the gateway's client at 0.17 ms, and 32 callers got
7,300-8,000 calls/s through against 8,400-15,800 messages/s.
So a client that sends many requests (the gateway) may keep a stream open and send them as its
messages, each with an id of its own; :func:`answer_concurrently` runs the server's side.

Draining: once ``draining`` is set the server reads no more requests; it answers those it has
started, then the stream ends with OK. A request the client sent that was not read was not started,
so the client may send it again elsewhere; see :mod:`gateway.batch_stream` for that side.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

Request = TypeVar("Request")
Response = TypeVar("Response")


class _Failed:
    """An answer that raised: the stream ends with its error."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _End:
    """Queued when no more requests will be read (the client half-closed, or the service drains)."""


_END = _End()


class _Answering(Generic[Request, Response]):
    """One stream's state: answers ready to send, and how many requests are still being answered."""

    def __init__(self, answer: Callable[[Request], Awaitable[Response]], draining: asyncio.Event) -> None:
        self.answer = answer
        self.draining = draining
        self.ready: asyncio.Queue[Response | _Failed | _End] = asyncio.Queue()
        self.started = 0
        self.running: set[asyncio.Task[None]] = set()

    async def read(self, requests: AsyncIterator[Request]) -> None:
        """Starts an answer for each request read until the client half-closes; a request read
        once draining began is dropped unanswered (not started, so it may be sent again)."""
        try:
            async for request in requests:
                if self.draining.is_set():
                    break
                self.started += 1
                task = asyncio.get_running_loop().create_task(self._answer(request))
                self.running.add(task)  # held until done: the loop keeps only a weak reference
                task.add_done_callback(self.running.discard)
        finally:  # a read that failed (the call broke) ends the stream as well
            self.ready.put_nowait(_END)

    async def watch_draining(self) -> None:
        await self.draining.wait()
        self.ready.put_nowait(_END)

    async def _answer(self, request: Request) -> None:
        try:
            self.ready.put_nowait(await self.answer(request))
        except Exception as error:
            self.ready.put_nowait(_Failed(error))


async def answer_concurrently(
    requests: AsyncIterator[Request],
    answer: Callable[[Request], Awaitable[Response]],
    draining: asyncio.Event,
) -> AsyncIterator[Response]:
    """Each request's answer as soon as it is ready (``answer`` runs for every request at once, in a
    task of its own); ends when no more requests will be read and every one started is answered. An
    answer that raises ends the stream with that error."""
    state = _Answering(answer, draining)
    reader = asyncio.ensure_future(state.read(requests))
    watcher = asyncio.ensure_future(state.watch_draining())
    answered = 0
    ending = False
    try:
        while not (ending and answered == state.started):
            item = await state.ready.get()
            if isinstance(item, _End):
                ending = True
            elif isinstance(item, _Failed):
                raise item.error
            else:
                answered += 1
                yield item
    finally:
        for task in (reader, watcher, *state.running):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(reader, watcher, *state.running, return_exceptions=True)
