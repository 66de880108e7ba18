"""Client streams that a servicer refuses part-way."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

Message = TypeVar("Message")


async def drain(request_iterator: AsyncIterator[Message], limit: int, size: Callable[[Message], int]) -> None:
    """Reads (and drops) what the client still sends, up to ``limit`` bytes by ``size``, before a
    refusal is returned.

    Answering a client stream while the client is still writing races its writes against the
    status: the client's gRPC library may then cancel the call and report CANCELLED or INTERNAL
    instead of the refusal (the suspected cause of a one-off 500 on ``POST /v1/models`` with name
    ``a/b``, not reproduced since in 120 tries).
    Waiting for the half-close makes the refusal the status the client sees.
    """
    seen = 0
    with contextlib.suppress(Exception):
        async for message in request_iterator:
            seen += size(message)
            if seen > limit:
                return
