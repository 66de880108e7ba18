"""Advanced inference cores without transport: the response cache, routing ranks, benchmark cases."""

from __future__ import annotations

import pytest

from services.common.errors import InvalidInput, ModelNotFound
from services.inference.advanced import benchmark as bench
from services.inference.advanced.cache import CachedCompletion, ResponseCache, cache_key
from services.inference.advanced.routing import Candidate, Priority, choose, reason
from services.inference.llm.chunks import Chunk


def entry(expires_at: float) -> CachedCompletion:
    return CachedCompletion(
        [Chunk("Paris", 0, "m", "cpu", "r", 0), Chunk(".", 1, "m", "cpu", "r", 0, "stop")], expires_at
    )


async def test_cache_expires_and_evicts_least_recently_used() -> None:
    now = [1000.0]
    cache = ResponseCache(capacity=2, clock=lambda: now[0])
    assert cache.counters.hit_rate is None
    await cache.put("a", entry(1010))
    await cache.put("b", entry(2000))
    assert await cache.get("a") is not None  # a is now the most recently used
    await cache.put("c", entry(2000))  # evicts b
    assert (
        await cache.get("b") is None and await cache.get("a") is not None and await cache.get("c") is not None
    )
    now[0] = 1011.0  # a expired
    assert await cache.get("a") is None and await cache.entries() == 1
    assert cache.counters.evicted == 2 and cache.counters.stored == 3
    cache.counters.hits, cache.counters.misses, cache.counters.bypassed = 1, 2, 1
    assert cache.counters.hit_rate == 0.25


def test_cache_key_separates_model_revision_and_request() -> None:
    base = cache_key("m", "r1", b"req")
    assert base == cache_key("m", "r1", b"req")
    assert (
        len({base, cache_key("m", "r2", b"req"), cache_key("n", "r1", b"req"), cache_key("m", "r1", b"x")})
        == 4
    )


FAST_BIG = Candidate("fast-big", "registry", 900, False, 10.0, 5)
SLOW_SMALL = Candidate("slow-small", "builtin", 100, True, 50.0, 9, ("text-generation", "chat"))
UNMEASURED = Candidate("new", "configured", 50, False, None, 0)


@pytest.mark.parametrize(
    ("priority", "first"),
    [(Priority.PERFORMANCE, "fast-big"), (Priority.COST, "new"), (Priority.BALANCED, "slow-small")],
)
def test_each_priority_ranks_by_its_measure(priority: Priority, first: str) -> None:
    ranked = choose([UNMEASURED, FAST_BIG, SLOW_SMALL], "text-generation", priority)
    assert ranked[0].name == first
    if priority is Priority.PERFORMANCE:
        assert ranked[-1].name == "new"  # unmeasured after measured


def test_capability_filters_and_unknown_capability_is_not_found() -> None:
    assert [c.name for c in choose([FAST_BIG, SLOW_SMALL], "chat", Priority.PERFORMANCE)] == ["slow-small"]
    with pytest.raises(ModelNotFound) as caught:
        choose([FAST_BIG, SLOW_SMALL], "image-classification", Priority.BALANCED)
    assert "chat" in caught.value.details["available_model_types"]


def test_reason_states_the_facts_used() -> None:
    text = reason(FAST_BIG, Priority.PERFORMANCE, 3)
    assert "lowest measured median latency" in text and "10.0 ms over 5 requests" in text
    assert "no latency measured yet" in reason(UNMEASURED, Priority.COST, 1)


def test_benchmark_cases_resolve_by_name_or_prompt() -> None:
    cases = bench.resolve_cases([bench.Case("simple q&a", ""), bench.Case("mine", "Say hi.")])
    assert cases[0] == bench.Case("Simple Q&A", bench.BUILTIN_CASES["Simple Q&A"])
    assert cases[1].prompt == "Say hi."
    assert len(bench.resolve_cases([])) == len(bench.BUILTIN_CASES)
    with pytest.raises(InvalidInput):
        bench.resolve_cases([bench.Case("Poetry Slam", "")])
    with pytest.raises(InvalidInput):
        bench.check_limits(["m"], 1, 0, 1)
    with pytest.raises(InvalidInput):
        bench.check_limits(["m"] * 9, 1, 16, 1)
    with pytest.raises(InvalidInput) as empty:
        bench.check_limits(["m", " "], 1, 16, 1)
    assert empty.value.details["field"] == "models[1]"
    bench.check_limits(["m", "n"], 4, 16, 3)


def test_a_benchmark_budget_is_the_configured_one_or_what_the_deadline_leaves() -> None:
    assert bench.budget_of(60, None) == 60
    assert bench.budget_of(60, 12) == 12 - bench.REPLY_MARGIN_SECONDS
    assert bench.budget_of(60, 1) == 0
