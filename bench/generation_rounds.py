"""How the generation benchmark runs its paths side by side: rounds interleaved in rotating order,
each after a warm-up on its own path (:func:`measure`), and the first token after an idle pause on
every path (:func:`overhead`). A path is any :data:`RoundOf`: the reference in this process, or a
client of the mesh."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.generation_runs import REFERENCE, Row, Run, summarize

#: One round of a path: ``streams`` generations of ``max_tokens`` tokens at once.
RoundOf = Callable[[int, int], Awaitable[list[Run]]]


def concurrently(one: Callable[[int], Awaitable[Run]]) -> RoundOf:
    """A round of a path that serves one generation per call: that many calls at once."""

    async def round_of(streams: int, max_tokens: int) -> list[Run]:
        return list(await asyncio.gather(*(one(max_tokens) for _ in range(streams))))

    return round_of


#: Time-to-first-token samples a row has at least: one stream gets this many rounds, not ``--rounds``.
MIN_TTFT_SAMPLES = 10


async def measure(paths: dict[str, RoundOf], streams: int, rounds: int, max_tokens: int) -> list[Row]:
    """Every path at one concurrency, ``rounds`` rounds each (more where fewer would leave a row
    under :data:`MIN_TTFT_SAMPLES` first tokens), interleaved in rotating order: reference, worker,
    gateway; then worker, gateway, reference; … A slow spell of this shared machine (the same code
    moves by a fifth from one run to the next) then falls on every path alike, not on whichever ran
    during it.

    Right before each measured round, the same path runs one unmeasured round of 4-token
    generations at the same concurrency, so every measured round starts alike: its engine's threads
    awake (llama.cpp's threads sleep once they have idled a while, here while another path ran, and
    the first step that wakes them is slower: without this, the worker, which ran right after the
    reference, read a first token 5 ms slower than the gateway, which ran right after the worker),
    and each of its slots, or the reference's sequences, holding the prompt (15 prompts evaluated
    cold cost about 2 s at 16 streams on this machine). The first token after an idle pause is
    measured apart, by the alternating pairs (:func:`overhead`)."""
    runs: dict[str, list[Run]] = {path: [] for path in paths}
    wall = dict.fromkeys(paths, 0.0)
    names = list(paths)
    for turn in range(max(rounds, -(-MIN_TTFT_SAMPLES // streams))):
        for path in names[turn % len(names) :] + names[: turn % len(names)]:
            await paths[path](streams, 4)
            started = time.perf_counter()
            runs[path] += await paths[path](streams, max_tokens)
            wall[path] += time.perf_counter() - started
    return [summarize(path, streams, runs[path], wall[path]) for path in paths]


@dataclass
class Overhead:
    """Single-stream time to first token after an idle pause on every path, from alternating requests."""

    reference: list[float]
    worker: list[float]
    gateway: list[float]

    def line(self) -> str:
        """One line: the three medians, and what the gateway adds over the worker (also as the median
        paired difference)."""
        reference = statistics.median(self.reference)
        worker, gateway = statistics.median(self.worker), statistics.median(self.gateway)
        paired = statistics.median(g - w for w, g in zip(self.worker, self.gateway, strict=True))
        return (
            f"TTFT after a {PAUSE_SECONDS * 1000:.0f} ms pause, one stream, {len(self.worker)} alternating "
            f"rounds: llama.cpp p50 {reference * 1000:.1f} ms, worker p50 {worker * 1000:.1f} ms "
            f"({(worker - reference) * 1000:+.1f} ms), gateway p50 {gateway * 1000:.1f} ms "
            f"({(gateway - reference) * 1000:+.1f} ms); the gateway adds {(gateway - worker) * 1000:+.1f} ms "
            f"({(gateway / worker - 1) * 100:+.1f}%) over the worker, median paired difference "
            f"{paired * 1000:+.1f} ms ({paired / worker * 100:+.1f}%); target <= +5%"
        )


#: The idle pause before each request of :func:`overhead`.
PAUSE_SECONDS = 0.05


async def overhead(paths: dict[str, RoundOf], pairs: int) -> Overhead:
    """``pairs`` single 2-token generations on each path, alternating, each after an idle pause: the
    first token of a request that finds the engine's threads asleep (the table's rounds find them
    awake)."""
    result = Overhead([], [], [])
    for _ in range(pairs):
        runs = []
        for path in (REFERENCE, "worker", "gateway"):
            await asyncio.sleep(PAUSE_SECONDS)
            runs += await paths[path](1, 2)
        if all(run.arrivals for run in runs):
            for samples, run in zip((result.reference, result.worker, result.gateway), runs, strict=True):
                samples.append(run.arrivals[0])
    return result
