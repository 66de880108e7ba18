"""The response cache's two implementations through one interface: in process, and in a real Redis
shared by two "replicas" (two clients), with JSON round trips of every chunk field, capacity
across replicas, expiry, and a miss (not an error) when Redis is down."""

from __future__ import annotations

import asyncio
import time

from services.inference.advanced.cache import CachedCompletion, ResponseCache
from services.inference.advanced.shared_cache import RedisResponseCache
from services.inference.llm.chunks import Chunk, TokenLogprob, TopLogprob
from services.inference.llm.tools import ToolCall
from tests.procs import free_port


def completion(text: str, ttl: float = 60.0) -> CachedCompletion:
    first = Chunk(
        text,
        0,
        "m",
        "cpu",
        "req_1",
        1,
        logprobs=(TokenLogprob(text, -0.5, text.encode(), (TopLogprob("é", -1.5, "é".encode()),)),),
        # echo with logprobs: the prompt's tokens, the first without a log-probability
        prompt_logprobs=(
            TokenLogprob("Hi", None, b"Hi"),
            TokenLogprob("!", -2.0, b"!", (TopLogprob(".", -1.0, b"."),)),
        ),
    )
    last = Chunk(
        "",
        1,
        "m",
        "cpu",
        "req_1",
        1,
        "tool_calls",
        prompt_tokens=7,
        completion_tokens=2,
        mean_logprob=-0.25,
        tool_calls=(ToolCall("call_1", "weather", '{"city": "Paris"}'),),
    )
    return CachedCompletion([first, last], expires_at=time.time() + ttl)


async def test_an_entry_stored_through_one_replica_is_a_hit_through_the_other(redis_db: str) -> None:
    a, b = RedisResponseCache(redis_db), RedisResponseCache(redis_db)
    try:
        stored = completion("Paris")
        await a.put("k1", stored)
        found = await b.get("k1")
        assert found is not None
        assert found.chunks == stored.chunks  # every field, logprob bytes and tool calls included
        assert abs(found.expires_at - stored.expires_at) < 0.01
        assert await b.get("missing") is None
        assert await a.entries() == 1 and await b.entries() == 1
    finally:
        await a.close()
        await b.close()


async def test_capacity_holds_across_replicas_least_recently_used_first(redis_db: str) -> None:
    a, b = RedisResponseCache(redis_db, capacity=2), RedisResponseCache(redis_db, capacity=2)
    try:
        await a.put("a", completion("A"))
        await b.put("b", completion("B"))
        assert await a.get("a") is not None  # a is now the most recently used
        await b.put("c", completion("C"))  # evicts b
        assert await a.get("b") is None
        assert await a.get("a") is not None and await a.get("c") is not None
        assert b.counters.evicted == 1 and await a.entries() == 2
    finally:
        await a.close()
        await b.close()


async def test_entries_expire_and_renewal_moves_the_expiry(redis_db: str) -> None:
    cache = RedisResponseCache(redis_db)
    try:
        await cache.put("short", completion("x", ttl=0.3))
        await cache.put("renewed", completion("y", ttl=0.3))
        entry = await cache.get("renewed")
        assert entry is not None
        await cache.renew("renewed", entry, time.time() + 60)
        await asyncio.sleep(0.5)
        assert await cache.get("short") is None
        assert await cache.get("renewed") is not None
        assert await cache.entries() == 1
    finally:
        await cache.close()


async def test_redis_down_is_a_miss_not_an_error() -> None:
    cache = RedisResponseCache(f"redis://127.0.0.1:{free_port()}/0")
    try:
        await cache.put("k", completion("x"))
        assert await cache.get("k") is None
        assert await cache.entries() == 0
    finally:
        await cache.close()


async def test_the_in_process_cache_has_the_same_interface() -> None:
    cache = ResponseCache()
    stored = completion("Paris")
    await cache.put("k1", stored)
    found = await cache.get("k1")
    assert found is not None and found.chunks == stored.chunks
    await cache.renew("k1", found, time.time() + 120)
    assert await cache.entries() == 1
    await cache.close()
