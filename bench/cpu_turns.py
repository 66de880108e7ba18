"""Two language models decoding at once on one CPU: with and without the engines' CPU turns.

Each engine is a process of its own, as two Triton model instances are, running greedy chat
completions of the bundled SmolLM2 GGUF on llama.cpp with every core. Rows, measured side by side in
one run: one engine alone, two engines at once as llama.cpp leaves them, and two engines at once
taking turns on the cores (``services/inference/llm/engines/cpu_turns.py``, the lock the engine
holds around each ``llama_decode``). Ratios are to the lone engine.

    python bench/cpu_turns.py [--tokens 64] [--rounds 4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generation_runs import PROMPT
from services.common.bundled import SMOLLM2_GGUF
from services.inference.llm.engines.cpu_turns import CpuTurns
from services.inference.llm.engines.llama_batch import usable_cores


def _engine(lock: str, tokens: int, rounds: int, start: float, out: multiprocessing.Queue) -> None:
    """One engine: loads the model, waits for the common start, decodes, reports tokens/s."""
    import llama_cpp.llama_cpp as raw
    from llama_cpp import Llama

    turns = CpuTurns(Path(lock) if lock else None)
    decode = raw.llama_decode

    def taking_turns(ctx: object, batch: object) -> int:
        with turns.turn():
            return int(decode(ctx, batch))

    raw.llama_decode = taking_turns
    llm = Llama(str(SMOLLM2_GGUF.path), n_threads=usable_cores(), n_ctx=512, verbose=False)
    llm.create_chat_completion([{"role": "user", "content": "Hi"}], max_tokens=2)
    time.sleep(max(0.0, start - time.time()))
    began, generated = time.perf_counter(), 0
    for _ in range(rounds):
        reply = llm.create_chat_completion(
            [{"role": "user", "content": PROMPT}], max_tokens=tokens, temperature=0.0, repeat_penalty=1.0
        )
        assert isinstance(reply, dict)  # not streamed
        generated += reply["usage"]["completion_tokens"]
    out.put(generated / (time.perf_counter() - began))


def measure(engines: int, lock: str, tokens: int, rounds: int) -> list[float]:
    """tokens/s of each of ``engines`` processes decoding at once."""
    context = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = context.Queue()
    start = time.time() + 15  # every engine loaded by then
    processes = [
        context.Process(target=_engine, args=(lock, tokens, rounds, start, out)) for _ in range(engines)
    ]
    for process in processes:
        process.start()
    rates = [out.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lock = str(Path(tmp) / "turns.lock")
        rows = [
            ("one engine alone", measure(1, "", args.tokens, args.rounds)),
            ("two engines at once", measure(2, "", args.tokens, args.rounds)),
            ("two engines at once, taking turns", measure(2, lock, args.tokens, args.rounds)),
        ]
    alone = rows[0][1][0]
    print(
        f"{usable_cores()} cores, {usable_cores()} llama.cpp threads per engine, {args.rounds} x {args.tokens} tokens"
    )
    print("| engines | tokens/s each | aggregate tokens/s | aggregate vs one alone |")
    print("|---|---|---|---|")
    for name, rates in rows:
        each = " / ".join(f"{r:.1f}" for r in rates)
        print(f"| {name} | {each} | {sum(rates):.1f} | {sum(rates) / alone:.2f}x |")


if __name__ == "__main__":
    main()
