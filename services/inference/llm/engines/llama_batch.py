"""llama.cpp helpers that the engine and the benchmark's in-process reference share: the cores to
run on, a batch's tokens, the shared prefix of two prompts, and the GGUF's own chat template."""

from __future__ import annotations

import os
from typing import Any


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def common_prefix(cached: list[int], prompt: list[int]) -> int:
    """How many leading tokens two lists share."""
    size = 0
    for a, b in zip(cached, prompt, strict=False):
        if a != b:
            break
        size += 1
    return size


def put_token(batch: Any, n: int, token: int, position: int, seq_id: int, logits: bool) -> int:
    """Writes one token at index ``n`` of a llama_batch; returns the next index."""
    batch.token[n] = token
    batch.pos[n] = position
    batch.n_seq_id[n] = 1
    batch.seq_id[n][0] = seq_id
    batch.logits[n] = logits
    return n + 1


def chat_formatter(model: Any) -> Any:
    """The GGUF's own chat template as llama-cpp-python renders it (None when the model has none)."""
    from llama_cpp import llama_chat_format

    template = model.metadata().get("tokenizer.chat_template")
    if not template:
        return None
    eos, bos = model.token_eos(), model.token_bos()
    return llama_chat_format.Jinja2ChatFormatter(
        template=template,
        eos_token=model.token_get_text(eos) if eos != -1 else "",
        bos_token=model.token_get_text(bos) if bos != -1 else "",
        stop_token_ids=[eos],
    )
