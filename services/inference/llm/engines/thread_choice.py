"""Picks the thread count of each llama.cpp decode from how long decodes of its size took.

llama.cpp's threads meet at a spinning barrier after every operation of a decode, hundreds of
times per token. When another process takes the core of one of them, the others wait until it
runs again, at every barrier. Measured on this 2-core machine with the bundled SmolLM2-135M GGUF,
150 single-token decodes:

- alone: 2 threads 0.94 s, 1 thread 1.97 s;
- beside one busy process: 2 threads 13.3 s (single decodes up to 0.44 s), 1 thread 2.3 s;
- in the mesh with two busy processes beside it, one decode with 2 threads took 5.7 s, and a
  client that left held its batch slot that long.

No thread count wins in both cases, and the load changes while the mesh runs. So each decode is
timed, and decodes of the same size (tokens, in powers of two) use the count that has been faster:
all the threads the engine may use, or half of them (one, on two cores).
The other count is tried again after a while, twice as long after each try that lost (from
:data:`FIRST_RETRY_SECONDS` up to :data:`LAST_RETRY_SECONDS`): under lasting load, the slow count
costs one decode per interval. A sudden stall moves the choice at once: the running estimate
follows each decode by :data:`WEIGHT` of the difference, so one decode 5 times slower than usual
doubles it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: How far a decode moves its thread count's running estimate.
WEIGHT = 0.25
#: The first wait before the count that lost is tried again, and the longest.
FIRST_RETRY_SECONDS = 1.0
LAST_RETRY_SECONDS = 60.0


@dataclass
class _Size:
    """What decodes of one size took: seconds per thread count, and when to try the other."""

    seconds: dict[int, float] = field(default_factory=dict)
    best: int = 0
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

    def pick(self, tokens: int) -> int:
        """The thread count for a decode of ``tokens`` tokens."""
        size = self._sizes.setdefault(tokens.bit_length(), _Size(best=self.counts[0]))
        untried = [count for count in self.counts if count not in size.seconds]
        if untried:
            return untried[0]
        if len(self.counts) > 1 and self._clock() >= size.retry_at:
            return next(count for count in self.counts if count != size.best)
        return size.best

    def record(self, tokens: int, threads: int, seconds: float) -> None:
        """Notes how long a decode of ``tokens`` tokens on ``threads`` threads took."""
        size = self._sizes.setdefault(tokens.bit_length(), _Size(best=self.counts[0]))
        known = size.seconds.get(threads)
        retried = threads != size.best
        # A count tried again starts afresh: its old figure was taken under another load.
        size.seconds[threads] = seconds if known is None or retried else known + WEIGHT * (seconds - known)
        if len(size.seconds) < len(self.counts):
            return
        before = size.best
        size.best = min(size.seconds, key=size.seconds.__getitem__)
        if size.best != before:
            size.retry_wait = FIRST_RETRY_SECONDS
        elif retried:
            size.retry_wait = min(2 * size.retry_wait, LAST_RETRY_SECONDS)
        else:
            return
        size.retry_at = self._clock() + size.retry_wait
