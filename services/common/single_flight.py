"""One call in flight per key: callers that need the same answer at the same moment share one call.

A cache in front of another service expires under load all at once: every request in flight finds
the entry stale together. Without this, each sends its own call (the inference service asked the
registry for one model about twenty times per expiry at 32 concurrent predictions).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

from services.common.context import deadline_var

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """Shares the call in flight for a key between everyone who asks while it runs."""

    def __init__(self) -> None:
        self._calls: dict[K, asyncio.Future[V]] = {}

    async def do(self, key: K, call: Callable[[], Coroutine[Any, Any, V]]) -> V:
        """The answer of the call in flight for ``key``, or of ``call()`` started now.

        The call runs in a task of its own, in the first caller's context (its request id and
        trace) but not under its deadline: it answers callers with other deadlines, and keeps its
        own timeout. A caller that gives up (cancelled, past its deadline) leaves it to the others.
        A failure reaches every caller that waited for it and is not kept: the next caller starts
        a new call.
        """
        running = self._calls.get(key)
        if running is None:
            context = contextvars.copy_context()
            context.run(deadline_var.set, None)
            running = asyncio.get_running_loop().create_task(call(), context=context)
            self._calls[key] = running
            running.add_done_callback(functools.partial(self._settled, key))
        return await asyncio.shield(running)

    def forget(self) -> None:
        """Later callers start calls of their own; the calls in flight still answer their callers."""
        self._calls.clear()

    def _settled(self, key: K, done: asyncio.Future[V]) -> None:
        if self._calls.get(key) is done:
            del self._calls[key]
        if not done.cancelled():
            done.exception()  # read here too, so a failure whose callers all left is not logged as lost
