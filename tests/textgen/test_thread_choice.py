"""Thread counts of llama.cpp decodes: each size uses the count that has been faster, a stall moves
the choice at once, and the losing count is tried again after a wait that doubles while it loses."""

from __future__ import annotations

from services.inference.llm.engines.thread_choice import FIRST_RETRY_SECONDS, LAST_RETRY_SECONDS, ThreadChoice


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def decode(choice: ThreadChoice, tokens: int, seconds: dict[int, float]) -> int:
    """One decode: the count picked, recorded as taking ``seconds[count]``."""
    threads = choice.pick(tokens)
    choice.record(tokens, threads, seconds[threads])
    return threads


def test_one_thread_or_a_fixed_count_never_changes() -> None:
    assert ThreadChoice(1).counts == (1,)
    fixed = ThreadChoice(4, adaptive=False)
    assert [decode(fixed, 1, {4: 1.0}) for _ in range(5)] == [4] * 5


def test_both_counts_are_timed_first_then_the_faster_one_is_used() -> None:
    clock = Clock()
    choice = ThreadChoice(2, clock=clock)
    assert choice.counts == (2, 1)
    unloaded = {2: 0.006, 1: 0.013}
    assert [decode(choice, 1, unloaded) for _ in range(4)] == [2, 1, 2, 2]
    # Another size is timed on its own.
    assert [decode(choice, 16, {2: 0.05, 1: 0.03}) for _ in range(3)] == [2, 1, 1]
    assert choice.pick(1) == 2


def test_a_stall_moves_the_choice_and_the_loser_waits_longer_each_time_it_loses() -> None:
    clock = Clock()
    choice = ThreadChoice(8, clock=clock)
    assert choice.counts == (8, 4)
    for _ in range(3):
        decode(choice, 1, {8: 0.006, 4: 0.013})
    # Another process takes a core: one decode on 8 threads stalls, and the next ones use 4.
    loaded = {8: 0.5, 4: 0.015}
    assert decode(choice, 1, loaded) == 8
    assert [decode(choice, 1, loaded) for _ in range(3)] == [4, 4, 4]
    # 8 threads are tried again once the wait is over; each try that loses doubles the wait.
    wait = FIRST_RETRY_SECONDS
    for _ in range(8):
        clock.now += wait - 0.01
        assert decode(choice, 1, loaded) == 4
        clock.now += 0.01
        assert decode(choice, 1, loaded) == 8
        assert decode(choice, 1, loaded) == 4
        wait = min(2 * wait, LAST_RETRY_SECONDS)
    assert wait == LAST_RETRY_SECONDS
    # The load is gone: the next try wins, and 8 threads are used again.
    clock.now += wait
    unloaded = {8: 0.006, 4: 0.013}
    assert [decode(choice, 1, unloaded) for _ in range(3)] == [8, 8, 8]
    # Having won, the other count's wait starts again from the first.
    clock.now += FIRST_RETRY_SECONDS
    assert decode(choice, 1, unloaded) == 4
