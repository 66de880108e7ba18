"""Which mesh-wide Socket.IO channels have a subscriber on some gateway replica, known without a
Redis round trip per event.

With replicas sharing Socket.IO through Redis, an ``inference_events`` event served by replica A
may concern a client of replica B, so A cannot tell from its own rooms whether to send it. Sending
every event through Redis anyway cost a gateway about a third of its CPU per prediction (py-spy,
32 concurrent KServe requests: 741 against 1,280 requests/s without Redis), for events nobody hears.

So each replica announces its own listeners instead:

- a sorted set per channel, ``meshserve:socketio:listeners:<channel>``, holds the replicas with a
  subscriber to it, each scored by when its entry expires (a replica that dies without leaving
  drops out by itself);
- a replica that gains or loses a channel's last subscriber updates its entry at once and
  publishes the channel's name on ``meshserve.socketio.listeners``; every replica follows that
  channel and recounts, so a new subscriber hears the next event served by any replica;
- each replica renews its entries and recounts every events period.

Redis being unreachable makes a channel count as heard: events are then sent, as before.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable

import redis.asyncio as redis

log = logging.getLogger("meshserve.gateway.events")

KEY = "meshserve:socketio:listeners:"
NEWS = "meshserve.socketio.listeners"


class SharedListeners:
    """The replicas' announced listeners of ``channels``, through the Redis at ``url``;
    ``listening_here`` says whether a client of this replica listens to a channel."""

    def __init__(
        self, url: str, channels: Iterable[str], period_seconds: float, listening_here: Callable[[str], bool]
    ) -> None:
        #: Commands time out, so a Redis that stopped answering cannot hold a subscription's ack;
        #: the follower's connection waits for news as long as there is none.
        self.redis = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._follower = redis.Redis.from_url(url, socket_connect_timeout=2.0)
        self.channels = frozenset(channels)
        self.listening_here = listening_here
        self.replica = uuid.uuid4().hex
        #: How long an entry lasts unless renewed: three periods, so one slow tick drops nobody.
        self.lifetime = 3 * period_seconds + 1
        #: The channels this replica has announced, and those some replica (maybe this one) has.
        self.announced: set[str] = set()
        self.heard: set[str] = set(self.channels)  # until the first count: send, as before
        #: One update at a time: a renewal that read the listeners before a subscription must not
        #: withdraw the entry the subscription has just announced.
        self._updating = asyncio.Lock()

    def _here(self) -> set[str]:
        return {channel for channel in self.channels if self.listening_here(channel)}

    async def announce(self) -> None:
        """This replica's listeners changed: updates its entries where they did, and tells the
        other replicas."""
        async with self._updating:
            await self._update(self._here())

    async def renew(self) -> None:
        """Each period: renews this replica's entries (and withdraws any it no longer has), then
        recounts every channel."""
        async with self._updating:
            wanted = self._here()
            try:
                for channel in wanted:
                    await self.redis.zadd(KEY + channel, {self.replica: time.time() + self.lifetime})
            except redis.RedisError as error:
                log.warning("could not renew socket.io listeners", extra={"error": str(error)})
            await self._update(wanted)
            await self.recount(self.channels)

    async def _update(self, wanted: set[str]) -> None:
        changed = wanted ^ self.announced
        if not changed:
            return
        try:
            for channel in changed:
                if channel in wanted:
                    await self.redis.zadd(KEY + channel, {self.replica: time.time() + self.lifetime})
                else:
                    await self.redis.zrem(KEY + channel, self.replica)
                await self.redis.publish(NEWS, channel)
            self.announced = set(wanted)
        except redis.RedisError as error:
            log.warning("could not announce socket.io listeners", extra={"error": str(error)})
        await self.recount(changed)

    async def recount(self, channels: Iterable[str]) -> None:
        """Whether each channel has an unexpired entry (Redis unreachable: counted as heard)."""
        for channel in channels:
            try:
                live = await self.redis.zcount(KEY + channel, time.time(), "+inf")
            except redis.RedisError:
                live = 1
            if live:
                self.heard.add(channel)
            else:
                self.heard.discard(channel)

    async def follow(self) -> None:
        """Recounts a channel whenever a replica announces a change to it (runs until cancelled)."""
        while True:
            try:
                async with self._follower.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(NEWS)
                    await self.recount(self.channels)  # what was announced before we followed
                    async for message in pubsub.listen():
                        channel = message["data"].decode()
                        if channel in self.channels:
                            await self.recount([channel])
            except redis.RedisError as error:
                log.warning("lost the socket.io listeners channel", extra={"error": str(error)})
                self.heard |= self.channels
                await asyncio.sleep(1.0)

    async def close(self) -> None:
        """Withdraws this replica's entries and closes the connection."""
        async with self._updating:
            await self._update(set())
        await self.redis.aclose()
        await self._follower.aclose()
