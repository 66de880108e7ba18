"""Thread counts of llama.cpp decodes: each size uses the count that has been faster (each count
judged by a few decodes in a row), a stall moves the choice at once, and the losing count is tried
again after a wait that doubles while it loses."""

from __future__ import annotations

from services.inference.llm.engines.thread_choice import (
    FIRST_RETRY_SECONDS,
    LAST_RETRY_SECONDS,
    TRIAL_DECODES,
    ThreadChoice,
)


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


def decodes(choice: ThreadChoice, tokens: int, seconds: dict[int, float], n: int) -> list[int]:
    return [decode(choice, tokens, seconds) for _ in range(n)]


def test_one_thread_or_a_fixed_count_never_changes() -> None:
    assert ThreadChoice(1).counts == (1,)
    fixed = ThreadChoice(4, adaptive=False)
    assert decodes(fixed, 1, {4: 1.0}, 5) == [4] * 5


def test_both_counts_are_tried_first_then_the_faster_one_is_used() -> None:
    choice = ThreadChoice(2, clock=Clock())
    assert choice.counts == (2, 1)
    t = TRIAL_DECODES
    assert decodes(choice, 1, {2: 0.006, 1: 0.013}, 2 * t + 2) == [1] * t + [2] * t + [2, 2]
    # Another size is judged on its own.
    assert decodes(choice, 16, {2: 0.05, 1: 0.03}, 2 * t + 2) == [1] * t + [2] * t + [1, 1]
    assert choice.pick(1) == 2


def test_a_try_is_judged_by_its_median_not_by_the_slow_first_decode_after_a_switch() -> None:
    choice = ThreadChoice(2, clock=Clock())
    for threads, times in ((1, (0.015, 0.013, 0.013)), (2, (0.03, 0.006, 0.007))):
        for seconds in times:  # the first decode of each try pays for waking the threads
            assert choice.pick(1) == threads
            choice.record(1, threads, seconds)
    assert choice.pick(1) == 2


def test_a_stall_moves_the_choice_and_a_try_under_load_costs_one_decode() -> None:
    clock = Clock()
    choice = ThreadChoice(8, clock=clock)
    assert choice.counts == (8, 4)
    t = TRIAL_DECODES
    unloaded = {8: 0.006, 4: 0.013}
    assert decodes(choice, 1, unloaded, 2 * t + 1) == [4] * t + [8] * t + [8]
    # Another process takes a core: one decode on 8 threads stalls, and the next ones use 4.
    loaded = {8: 0.5, 4: 0.015}
    assert decodes(choice, 1, loaded, 4) == [8, 4, 4, 4]
    # 8 threads are tried again once the wait is over: the first decode, far slower than on 4,
    # ends the try, and each try that loses doubles the wait.
    wait = FIRST_RETRY_SECONDS
    for _ in range(8):
        clock.now += wait - 0.01
        assert decode(choice, 1, loaded) == 4
        clock.now += 0.01
        assert decodes(choice, 1, loaded, 2) == [8, 4]
        wait = min(2 * wait, LAST_RETRY_SECONDS)
    assert wait == LAST_RETRY_SECONDS
    # The load is gone: the next try wins, and 8 threads are used again.
    clock.now += wait
    assert decodes(choice, 1, unloaded, t + 2) == [8] * (t + 2)
    # Having won, the other count's wait starts again from the first; a try not far slower runs whole.
    clock.now += FIRST_RETRY_SECONDS
    assert decodes(choice, 1, unloaded, t + 1) == [4] * t + [8]


def test_a_try_lost_to_load_holds_the_larger_count_back_at_every_size() -> None:
    clock = Clock()
    choice = ThreadChoice(2, clock=clock)
    t = TRIAL_DECODES
    loaded = {2: 0.5, 1: 0.015}
    assert decodes(choice, 1, loaded, t + 2) == [1] * t + [2, 1]
    # A size not seen before is tried on one thread, and not on two while the load holds them back.
    assert decodes(choice, 40, {2: 2.0, 1: 0.1}, t + 3) == [1] * (t + 3)
    clock.now += 2 * FIRST_RETRY_SECONDS  # the wait after a first try that lost
    assert decodes(choice, 40, {2: 0.04, 1: 0.1}, t + 1) == [2] * (t + 1)
