"""The gateway's audit trail: one masked event per request, sent to auth in batches off the hot path.

Bodies are never read, so prompts and passwords never reach the log; query parameters that carry
secrets or prompts, and anything in the path shaped like a key or a JWT, are masked.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

from meshserve.v1 import auth_pb2 as pb

log = logging.getLogger("meshserve.gateway.audit")

MASK = "***"
SECRET_PARAMS = frozenset(
    {
        "api_key",
        "apikey",
        "key",
        "token",
        "access_token",
        "refresh_token",
        "password",
        "secret",
        "authorization",
    }
)
PROMPT_PARAMS = frozenset({"prompt", "text", "input", "inputs", "messages", "content", "query", "q"})
_SECRET_SHAPES = re.compile(r"msk_[A-Za-z0-9_-]+|rt_[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+")

Sender = Callable[[list[pb.AuditEvent]], Awaitable[None]]


def mask_text(text: str) -> str:
    """Replaces anything shaped like a key, refresh token or JWT."""
    return _SECRET_SHAPES.sub(MASK, text)


def mask_query(query: str) -> str:
    """A query string with secret and prompt values masked."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    masked = [(k, MASK if k.lower() in SECRET_PARAMS | PROMPT_PARAMS else mask_text(v)) for k, v in pairs]
    return urlencode(masked, safe="*")


def masked_target(path: str, query: str) -> str:
    """Path plus masked query, as recorded."""
    path = mask_text(path)
    query = mask_query(query)
    return f"{path}?{query}" if query else path


class AuditRecorder:
    """A bounded queue drained by a background task into ``AuthService.RecordAudit``."""

    def __init__(self, send: Sender, flush_seconds: float, batch_size: int, queue_size: int) -> None:
        self._send = send
        self.flush_seconds = flush_seconds
        self.batch_size = batch_size
        self._queue: deque[pb.AuditEvent] = deque(maxlen=queue_size)
        self.dropped = 0
        self.failing = False
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def record(self, event: pb.AuditEvent) -> None:
        """Queues an event (never blocks; the oldest is dropped when full)."""
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append(event)

    def start(self) -> None:
        """Starts the flushing task."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="audit-flush")

    async def flush(self) -> None:
        """Sends everything queued now."""
        async with self._lock:
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
                try:
                    await self._send(batch)
                except Exception as error:  # auth away: keep the events for the next round
                    if not self.failing:
                        log.warning("audit flush failed, %d events kept: %s", len(batch), error)
                    self.failing = True
                    self._queue.extendleft(reversed(batch))
                    return
                self.failing = False

    async def stop(self) -> None:
        """Stops the task after a last flush."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            await self.flush()
