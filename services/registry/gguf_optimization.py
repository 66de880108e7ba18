"""Optimising a GGUF language model: re-quantization with llama.cpp's own quantizer, measured.

Document 003's optimize endpoint names widths (4-, 8- and 16-bit); for a GGUF file they map onto
llama.cpp's quantization types (``Q4_0``, ``Q8_0``, ``F16``; the type names are accepted too) and
llama.cpp's quantizer writes the new file (:mod:`services.common.gguf_quant`). The new version's size and greedy decode speed are
measured against the original's on this machine, in this process, with the same prompt, and
recorded as labels (best of three interleaved rounds). No transport imports.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from services.common.gguf_quant import gguf_type, quantize

#: Used when a request names no width: the smallest llama.cpp type every tensor shape takes.
DEFAULT_QUANTIZATION = "Q4_0"
PROMPT = "Once upon a time"
MEASURED_TOKENS = 32


@dataclass(frozen=True)
class Measured:
    """A GGUF file's size and greedy decode speed here."""

    size_bytes: int
    tokens_per_second: float


def quantization_of(options: dict[str, str]) -> str:
    """The llama.cpp type a request asks for (the default when it names none)."""
    asked = options.get("quantization", "").strip()
    return gguf_type(asked) if asked else DEFAULT_QUANTIZATION


def measure(paths: list[Path], rounds: int = 3) -> list[Measured]:
    """Size, and greedy decode tokens/s of ``MEASURED_TOKENS`` tokens after a short prompt, for
    each file: the models are loaded together and timed in turn, best of ``rounds`` (a busy
    machine slows one round, not one model)."""
    from llama_cpp import Llama

    threads = len(os.sched_getaffinity(0))
    models = [Llama(str(p), n_ctx=256, n_threads=threads, verbose=False) for p in paths]
    best = [0.0] * len(models)
    try:
        for llama in models:
            llama.create_completion(PROMPT, max_tokens=4, temperature=0.0)  # warm-up
        for _ in range(rounds):
            for index, llama in enumerate(models):
                llama.reset()
                started = time.perf_counter()
                reply = llama.create_completion(PROMPT, max_tokens=MEASURED_TOKENS, temperature=0.0)
                assert isinstance(reply, dict), "create_completion without stream returns one response"
                seconds = time.perf_counter() - started
                best[index] = max(best[index], int(reply["usage"]["completion_tokens"]) / seconds)
    finally:
        for llama in models:
            llama.close()
    return [Measured(p.stat().st_size, speed) for p, speed in zip(paths, best, strict=True)]


def optimize_gguf(source: Path, target: Path, options: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """Re-quantizes ``source`` into ``target``; returns what was done and the labels to record."""
    kind = quantization_of(options)
    quantize(source, target, kind)
    before, after = measure([source, target])
    applied = [
        f"llama.cpp re-quantization to {kind}: {before.size_bytes / 2**20:.1f} MB → {after.size_bytes / 2**20:.1f} MB",
        f"greedy decode here: {before.tokens_per_second:.1f} → {after.tokens_per_second:.1f} tokens/s "
        f"({after.tokens_per_second / before.tokens_per_second:.2f}x)"
        if before.tokens_per_second
        else "greedy decode speed could not be measured",
    ]
    labels = {
        "quantization": kind,
        "size_bytes_before": str(before.size_bytes),
        "tokens_per_second": f"{after.tokens_per_second:.1f}",
        "tokens_per_second_before": f"{before.tokens_per_second:.1f}",
    }
    return applied, labels
