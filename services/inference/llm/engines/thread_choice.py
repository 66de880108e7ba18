"""Picks the thread count of each llama.cpp decode from how long decodes of its size took.

llama.cpp's threads meet at a spinning barrier after every operation of a decode, hundreds of
times per token. When another process takes the core of one of them, the others wait until it
runs again, at every barrier. Measured on this 2-core machine with the bundled SmolLM2-135M GGUF,
150 single-token decodes:

- alone: 2 threads 0.94 s, 1 thread 1.97 s;
- beside one busy process: 2 threads 13.3 s (single decodes up to 0.44 s), 1 thread 2.3 s;
- in the mesh beside one busy process, single decodes on 2 threads took up to 2.4 s, and a client
  that left could hold its batch slot that long.

No thread count wins in both cases, and the load changes while the mesh runs. So each decode is
timed, and decodes of the same size (tokens, in powers of two) use the count that has been faster:
all the threads the engine may use, or half of them (one, on two cores).
A try is :data:`TRIAL_DECODES` decodes in a row, judged by their median, or one decode
:data:`LOSING_FACTOR` times slower than the other count. The other count is tried
again after a while, twice as long after each try that lost (from
:data:`FIRST_RETRY_SECONDS` up to :data:`LAST_RETRY_SECONDS`): under lasting load, the slow count
costs a few decodes per interval. A sudden stall moves the choice at once: the running estimate
follows each decode by :data:`WEIGHT` of the difference, so one decode 5 times slower than usual
doubles it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: How far a decode moves its thread count's running estimate.
WEIGHT = 0.25
#: Decodes in a row that try a count; their median is its figure. One decode is a noisy figure (the
#: first after a switch also wakes threads that slept), and would misjudge the count switched to.
TRIAL_DECODES = 3
#: A try ends at once, lost, on a decode this many times slower than the other count's figure: under
#: load, a decode on every core took 0.3-1.7 s where one thread took 20 ms.
LOSING_FACTOR = 3.0
#: The first wait before the count that lost is tried again, and the longest.
FIRST_RETRY_SECONDS = 1.0
LAST_RETRY_SECONDS = 60.0


@dataclass
class _Size:
    """What decodes of one size took: seconds per thread count, the count being tried and its
    decodes so far, and when to try the other count again."""

    best: int
    seconds: dict[int, float] = field(default_factory=dict)
    trying: int = 0
    trial: list[float] = field(default_factory=list)
    retry_at: float = 0.0
    retry_wait: float = FIRST_RETRY_SECONDS


class ThreadChoice:
    """The thread count for each decode: all of ``threads`` or half of them, whichever has been
    faster at its size (always ``threads`` when not ``adaptive`` or with one thread)."""

    def __init__(
        self, threads: int, adaptive: bool = True, clock: Callable[[], float] = time.monotonic
    ) -> None:
        threads = max(1, threads)
        self.counts = (threads, threads // 2) if adaptive and threads > 1 else (threads,)
        self._clock = clock
        self._sizes: dict[int, _Size] = {}
        #: Until then no size tries the larger count: it lost to load at some size (load slows every
        #: size alike, and a try under load is the slowest decode there is).
        self._held_until = 0.0

    def pick(self, tokens: int) -> int:
        """The thread count for a decode of ``tokens`` tokens."""
        size = self._size(tokens)
        if not size.trying:
            now = self._clock()
            untried = [count for count in self.counts if count not in size.seconds]
            if untried:  # the fewer threads first: they are never much slower, and set the bar
                candidate = untried[-1]
            elif now >= size.retry_at:
                candidate = next((count for count in self.counts if count != size.best), 0)
            else:
                candidate = 0
            if candidate and not (candidate == self.counts[0] and now < self._held_until):
                size.trying = candidate
        return size.trying or size.best

    def record(self, tokens: int, threads: int, seconds: float) -> None:
        """Notes how long a decode of ``tokens`` tokens on ``threads`` threads took."""
        size = self._size(tokens)
        if threads != size.trying:  # the chosen count at work: its estimate follows the load
            known = size.seconds.get(threads, seconds)
            size.seconds[threads] = known + WEIGHT * (seconds - known)
            self._choose(size, tried=False)
            return
        size.trial.append(seconds)
        bar = min((s for count, s in size.seconds.items() if count != threads), default=None)
        losing = bar is not None and seconds > LOSING_FACTOR * bar
        if len(size.trial) < TRIAL_DECODES and not losing:
            return
        # A count tried again starts afresh: its old figure was taken under another load.
        size.seconds[threads] = seconds if losing else statistics.median(size.trial)
        size.trying, size.trial = 0, []
        self._choose(size, tried=True)
        if losing and threads == self.counts[0]:
            self._held_until = max(self._held_until, size.retry_at)

    def _size(self, tokens: int) -> _Size:
        return self._sizes.setdefault(tokens.bit_length(), _Size(best=self.counts[-1]))

    def _choose(self, size: _Size, tried: bool) -> None:
        """Takes the fastest count measured, and sets when to try the other again."""
        before = size.best
        size.best = min(size.seconds, key=size.seconds.__getitem__)
        if len(size.seconds) < len(self.counts):  # the other count's first try comes next
            return
        if size.best != before:
            size.retry_wait = FIRST_RETRY_SECONDS
        elif tried:
            size.retry_wait = min(2 * size.retry_wait, LAST_RETRY_SECONDS)
        else:
            return
        size.retry_at = self._clock() + size.retry_wait
        if before == self.counts[0] and not tried:  # a stall moved the choice off the larger count
            self._held_until = max(self._held_until, size.retry_at)
