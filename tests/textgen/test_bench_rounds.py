"""The generation benchmark interleaves the rounds of its paths in rotating order, so that a slow spell of
the machine falls on every path alike; each measured round follows an unmeasured one on its own
path, so that every round starts on an awake engine; and every row has enough first tokens for its
percentiles."""

from __future__ import annotations

from bench.generation_rounds import MIN_TTFT_SAMPLES, RoundOf, measure
from bench.generation_runs import Run


def recorded(name: str, calls: list[tuple[str, int, int]]) -> RoundOf:
    """A path whose rounds note their order and return a token every 10 ms."""

    async def round_of(streams: int, max_tokens: int) -> list[Run]:
        calls.append((name, streams, max_tokens))
        return [Run([0.01 * (i + 1) for i in range(max_tokens)], max_tokens) for _ in range(streams)]

    return round_of


async def test_rounds_rotate_between_paths_each_right_after_a_warm_up_on_its_own_path() -> None:
    calls: list[tuple[str, int, int]] = []
    names = ("llama.cpp", "worker", "gateway")
    rows = await measure({name: recorded(name, calls) for name in names}, streams=8, rounds=3, max_tokens=8)
    order = [
        "llama.cpp", "worker", "gateway",
        "worker", "gateway", "llama.cpp",
        "gateway", "llama.cpp", "worker",
    ]  # fmt: skip
    # Each measured round (8 tokens) right after an unmeasured one (4 tokens) on the same path.
    assert calls == [call for name in order for call in ((name, 8, 4), (name, 8, 8))]
    assert [(r.path, r.streams) for r in rows] == [(name, 8) for name in names]
    for row in rows:
        assert round(row.ttft_p50, 3) == 10.0 and round(row.itl_mean, 3) == 10.0
        assert row.tokens_per_second > 0


async def test_a_single_stream_gets_enough_rounds_for_its_first_token_percentiles() -> None:
    calls: list[tuple[str, int, int]] = []
    await measure({"worker": recorded("worker", calls)}, streams=1, rounds=3, max_tokens=8)
    assert calls == [("worker", 1, 4), ("worker", 1, 8)] * MIN_TTFT_SAMPLES
    calls.clear()
    await measure({"worker": recorded("worker", calls)}, streams=4, rounds=1, max_tokens=8)
    assert calls == [("worker", 4, 4), ("worker", 4, 8)] * 3  # 12 first tokens, not 4
