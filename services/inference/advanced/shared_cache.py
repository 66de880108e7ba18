"""The response cache in Redis, shared by every inference replica: an answer a prefetch stored
through one replica is a hit through any other.

Each entry is one key, ``meshserve:cache:<sha256>``, holding the completion's chunks as JSON (never
pickle: a shared cache must not be a way to run code in its readers), expiring by Redis's own
``PEXPIREAT``. A sorted set of keys by last use enforces ``capacity`` across replicas: past it, the
least recently used go first. Redis being unreachable makes the cache a miss (logged), never a
failed request.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from typing import Any

from services.inference.advanced.cache import DEFAULT_CAPACITY, CacheCounters, CachedCompletion
from services.inference.llm.chunks import Chunk, TokenLogprob
from services.inference.llm.tools import ToolCall

log = logging.getLogger("meshserve.inference.cache")

PREFIX = "meshserve:cache:"
LRU = "meshserve:cache-lru"


def chunk_json(chunk: Chunk) -> dict[str, Any]:
    """A chunk as JSON (token bytes as lists of ints, as the workers send them)."""
    data = asdict(chunk)
    for entry in [*data["logprobs"], *data["prompt_logprobs"]]:
        entry["bytes"] = list(entry["bytes"])
        for top in entry["top"]:
            top["bytes"] = list(top["bytes"])
    return data


def chunk_of(data: dict[str, Any]) -> Chunk:
    """Inverse of :func:`chunk_json`."""
    return Chunk(
        **{
            **data,
            "logprobs": tuple(TokenLogprob.from_event(e) for e in data["logprobs"]),
            # (entries stored before echo scored prompts have none)
            "prompt_logprobs": tuple(TokenLogprob.from_event(e) for e in data.get("prompt_logprobs", ())),
            "tool_calls": tuple(ToolCall(**c) for c in data["tool_calls"]),
        }
    )


class RedisResponseCache:
    """The response cache's interface (:class:`~.cache.ResponseCache`) over a Redis server."""

    def __init__(self, url: str, capacity: int = DEFAULT_CAPACITY) -> None:
        import redis.asyncio as redis
        from redis.exceptions import RedisError

        self.capacity = capacity
        self.counters = CacheCounters()
        self._client: Any = redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0, decode_responses=True
        )
        self._errors = (RedisError, OSError)

    async def get(self, key: str) -> CachedCompletion | None:
        """The live entry under ``key`` (marked recently used), or None."""
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.get(PREFIX + key)
                pipe.pexpiretime(PREFIX + key)
                raw, expires_ms = await pipe.execute()
            if raw is None:
                await self._client.zrem(LRU, key)
                return None
            await self._client.zadd(LRU, {key: time.time()})
        except self._errors as error:
            log.warning("response cache unreachable: a miss", extra={"error": str(error)})
            return None
        stored = json.loads(raw)
        return CachedCompletion(
            chunks=[chunk_of(c) for c in stored["chunks"]],
            expires_at=expires_ms / 1000 if expires_ms and expires_ms > 0 else time.time(),
            stored_at=stored["stored_at"],
        )

    async def renew(self, key: str, entry: CachedCompletion, expires_at: float) -> None:
        """Moves an entry's expiry (a repeated prefetch)."""
        entry.expires_at = expires_at
        try:
            await self._client.pexpireat(PREFIX + key, int(expires_at * 1000))
        except self._errors as error:
            log.warning("response cache unreachable: not renewed", extra={"error": str(error)})

    async def put(self, key: str, entry: CachedCompletion) -> None:
        """Stores (or replaces) an entry, evicting the least recently used beyond capacity."""
        body = json.dumps({"chunks": [chunk_json(c) for c in entry.chunks], "stored_at": entry.stored_at})
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.set(PREFIX + key, body, pxat=int(entry.expires_at * 1000))
                pipe.zadd(LRU, {key: time.time()})
                pipe.zcard(LRU)
                *_, size = await pipe.execute()
            self.counters.stored += 1
            if size > self.capacity:
                victims = await self._client.zpopmin(LRU, size - self.capacity)
                if victims:
                    await self._client.delete(*(PREFIX + v for v, _ in victims))
                    self.counters.evicted += len(victims)
        except self._errors as error:
            log.warning("response cache unreachable: not stored", extra={"error": str(error)})

    async def entries(self) -> int:
        """Live entries now, across every replica (index entries of expired keys are dropped)."""
        try:
            keys: list[str] = await self._client.zrange(LRU, 0, -1)
            if not keys:
                return 0
            async with self._client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.exists(PREFIX + key)
                alive = await pipe.execute()
            gone = [k for k, a in zip(keys, alive, strict=True) if not a]
            if gone:
                await self._client.zrem(LRU, *gone)
                self.counters.evicted += len(gone)
            return len(keys) - len(gone)
        except self._errors as error:
            log.warning("response cache unreachable", extra={"error": str(error)})
            return 0

    async def close(self) -> None:
        """Closes the connection pool."""
        await self._client.aclose()
