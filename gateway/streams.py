"""An open server-streaming gRPC call whose first message has arrived.

Dialects open a stream before sending any byte so that errors still get a real HTTP status; after
that, the stream yields every message, turns RPC errors into canonical MeshErrors, and cancels the
upstream call when the client leaves (which frees worker slots).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Generic, TypeVar

import grpc

from services.common.errors import MeshError

Message = TypeVar("Message")


class OpenStream(Generic[Message]):
    """Every message of a call, the first included, until ``is_last`` says so or the call ends."""

    def __init__(self, call: Any, first: Message, is_last: Callable[[Message], bool]) -> None:
        self.call = call
        self.first = first
        self.is_last = is_last
        self.started = time.perf_counter()

    async def __aiter__(self) -> AsyncIterator[Message]:
        """Every message; errors become canonical MeshErrors; the call is cancelled at the end."""
        try:
            yield self.first
            if self.is_last(self.first):
                return
            while True:
                try:
                    message = await self.call.read()
                except grpc.aio.AioRpcError as error:
                    raise MeshError.from_rpc_error(error) from None
                if message is grpc.aio.EOF:
                    return
                yield message
                if self.is_last(message):
                    return
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Cancels the call (a no-op once it has finished)."""
        self.call.cancel()
