"""Gateway replicas learn through a real Redis which mesh-wide Socket.IO channels some replica's
client listens to (``gateway/event_listeners.py``): at once when one announces, by expiry when one
dies without withdrawing, and as "heard" when Redis is unreachable."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from gateway.event_listeners import SharedListeners

CHANNEL = "inference_events"


@dataclass
class Replica:
    """A gateway replica's listeners; ``here`` holds the channels its own clients listen to."""

    url: str
    period: float
    here: set[str] = field(default_factory=set)
    listeners: SharedListeners = field(init=False)

    def __post_init__(self) -> None:
        self.listeners = SharedListeners(self.url, [CHANNEL], self.period, self.here.__contains__)

    @property
    def heard(self) -> set[str]:
        return self.listeners.heard

    async def subscribe(self) -> None:
        self.here.add(CHANNEL)
        await self.listeners.announce()

    async def unsubscribe(self) -> None:
        self.here.discard(CHANNEL)
        await self.listeners.announce()


@contextlib.asynccontextmanager
async def following(url: str, period: float = 0.5) -> AsyncIterator[Replica]:
    """A replica following the others' announcements until the block ends."""
    replica = Replica(url, period)
    task = asyncio.create_task(replica.listeners.follow())
    try:
        # A block that hangs fails with a TimeoutError whose traceback shows where (one run in a full
        # suite once hung here until pytest-timeout's 300 s, showing nothing of the event loop's tasks).
        async with asyncio.timeout(60):
            yield replica
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)  # a follower that ignored its cancellation fails here
        await asyncio.wait_for(replica.listeners.close(), 10)


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_replica_hears_of_another_replicas_listener_at_once_and_of_its_leaving(redis_db: str) -> None:
    async with following(redis_db) as a, following(redis_db) as b:
        await until(lambda: CHANNEL not in a.heard)  # nobody listens: nothing to send
        await b.subscribe()
        await until(lambda: CHANNEL in a.heard, timeout=1.0)
        await b.listeners.announce()  # unchanged: nothing new to say
        assert CHANNEL in a.heard and CHANNEL in b.heard
        await b.unsubscribe()
        await until(lambda: CHANNEL not in a.heard, timeout=1.0)
        assert CHANNEL not in b.heard


async def test_a_replica_that_died_without_withdrawing_drops_out_when_its_entry_expires(
    redis_db: str,
) -> None:
    async with following(redis_db, period=0.1) as a:
        dead = Replica(redis_db, period=0.1)  # its entry lives 3 periods + 1 s
        await dead.subscribe()
        await until(lambda: CHANNEL in a.heard)
        await asyncio.sleep(0.5)
        await a.listeners.renew()
        assert CHANNEL in a.heard  # not yet expired
        await asyncio.sleep(dead.listeners.lifetime)
        await a.listeners.renew()
        assert CHANNEL not in a.heard
        await dead.listeners.close()  # its connections; its entry had expired already


async def test_a_listener_renewed_every_period_stays_heard_past_its_lifetime(redis_db: str) -> None:
    async with following(redis_db, period=0.1) as a, following(redis_db, period=0.1) as b:
        await b.subscribe()
        deadline = time.monotonic() + b.listeners.lifetime + 0.5
        while time.monotonic() < deadline:
            await b.listeners.renew()
            await a.listeners.renew()
            assert CHANNEL in a.heard
            await asyncio.sleep(0.1)


async def test_with_redis_unreachable_every_channel_counts_as_heard() -> None:
    async with following("redis://127.0.0.1:1/0") as lost:
        await lost.subscribe()
        await lost.listeners.renew()
        assert CHANNEL in lost.heard
