"""What the generation benchmark measures and how a row sums it up: each stream's token arrival
times (:class:`Run`) and one table row per path and concurrency (:class:`Row`), with the
benchmark's model, prompt and the reference's settings."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from services.inference.llm.engines.llama_batch import usable_cores

MODEL = "smollm2-135m-instruct"
TRITON_MODEL = "llm--" + MODEL
PROMPT = "Write a short story about a lighthouse keeper."
#: The reference's threads and per-sequence context: what meshserve's engine uses by default.
THREADS = usable_cores()
CONTEXT = 2048
REFERENCE = "llama.cpp"


@dataclass
class Run:
    """Token arrival times of one stream (seconds after its request was sent)."""

    arrivals: list[float]
    tokens: int


@dataclass
class Row:
    """One line of the table."""

    path: str
    streams: int
    ttft_p50: float
    ttft_p99: float
    itl_mean: float
    itl_p99: float
    tokens_per_second: float


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summarize(path: str, streams: int, runs: list[Run], wall: float) -> Row:
    """One row from the runs of a path at one concurrency and the wall time they took."""
    ttfts = [r.arrivals[0] for r in runs if r.arrivals]
    gaps = [b - a for r in runs for a, b in zip(r.arrivals, r.arrivals[1:], strict=False)]
    return Row(
        path,
        streams,
        percentile(ttfts, 50) * 1000,
        percentile(ttfts, 99) * 1000,
        statistics.fmean(gaps) * 1000 if gaps else 0.0,
        percentile(gaps, 99) * 1000 if gaps else 0.0,
        sum(r.tokens for r in runs) / wall,
    )
