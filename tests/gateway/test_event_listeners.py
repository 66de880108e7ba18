"""Gateway replicas learn through a real Redis which mesh-wide Socket.IO channels some replica's
client listens to (``gateway/event_listeners.py``): at once when one announces, by expiry when one
dies without withdrawing, and as "heard" when Redis is unreachable."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import pytest

from gateway.event_listeners import SharedListeners

CHANNEL = "inference_events"


@pytest.fixture
async def redis_db(redis_url: str) -> str:
    import redis.asyncio as redis

    client = redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
    return redis_url


@contextlib.asynccontextmanager
async def following(url: str, period: float = 0.5) -> AsyncIterator[SharedListeners]:
    """A replica's listeners, following the others' announcements until the block ends."""
    listeners = SharedListeners(url, [CHANNEL], period)
    task = asyncio.create_task(listeners.follow())
    try:
        yield listeners
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await listeners.close()


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_replica_hears_of_another_replicas_listener_at_once_and_of_its_leaving(redis_db: str) -> None:
    async with following(redis_db) as a, following(redis_db) as b:
        await until(lambda: CHANNEL not in a.heard)  # nobody listens: nothing to send
        await b.announce({CHANNEL})
        await until(lambda: CHANNEL in a.heard, timeout=1.0)
        await b.announce({CHANNEL})  # unchanged: nothing new to say
        assert CHANNEL in a.heard and CHANNEL in b.heard
        await b.announce(set())
        await until(lambda: CHANNEL not in a.heard, timeout=1.0)
        assert CHANNEL not in b.heard


async def test_a_replica_that_died_without_withdrawing_drops_out_when_its_entry_expires(
    redis_db: str,
) -> None:
    async with following(redis_db, period=0.1) as a:
        dead = SharedListeners(redis_db, [CHANNEL], period_seconds=0.1)  # lives 3 periods + 1 s
        await dead.announce({CHANNEL})
        await until(lambda: CHANNEL in a.heard)
        await asyncio.sleep(0.5)
        await a.renew(set())
        assert CHANNEL in a.heard  # not yet expired
        await asyncio.sleep(dead.lifetime)
        await a.renew(set())
        assert CHANNEL not in a.heard
        await dead.redis.aclose()


async def test_a_listener_renewed_every_period_stays_heard_past_its_lifetime(redis_db: str) -> None:
    async with following(redis_db, period=0.1) as a, following(redis_db, period=0.1) as b:
        await b.announce({CHANNEL})
        deadline = time.monotonic() + b.lifetime + 0.5
        while time.monotonic() < deadline:
            await b.renew({CHANNEL})
            await a.renew(set())
            assert CHANNEL in a.heard
            await asyncio.sleep(0.1)


async def test_with_redis_unreachable_every_channel_counts_as_heard() -> None:
    async with following("redis://127.0.0.1:1/0") as lost:
        await lost.announce({CHANNEL})
        await lost.renew(set())
        assert CHANNEL in lost.heard
