"""The llama.cpp engine: GGUF models through ``llama-cpp-python``, continuously batched.

Continuous batching the way llama.cpp's own server runs parallel slots: one context holds a KV
cache per slot (``n_seq_max`` sequences, each with its own stream of cells). A newly admitted
sequence's prompt is evaluated in a ``llama_decode`` of its own (a prompt mixed with other
sequences' single tokens would be split into one-token micro-batches); then every step builds one
``llama_batch`` with the last token of every running sequence (one sequence id each) and a single
``llama_decode`` computes them all. Each sequence samples from its own row of logits with its own
llama.cpp sampler chain; a sequence that leaves frees its slot at once.

Prompt caching, as llama.cpp's server does per slot: a slot keeps the KV cells of its last
sequence, and a new sequence takes the free slot whose cached tokens share the longest prefix
with its prompt, evaluating only the rest (the chat template's system prompt, a conversation's
earlier turns). ``usage.cached_tokens`` says how many prompt tokens came from the cache.

The model, context, batch and sampler objects are llama-cpp-python's own wrappers
(``llama_cpp._internals``, the layer its ``Llama`` class is built on); the version is pinned in
``constraints.txt``. Prompts are rendered and tokenized exactly as ``Llama.create_chat_completion``
does (the GGUF's chat template through ``Jinja2ChatFormatter``), so greedy output equals llama.cpp's
own (``Llama(..., flash_attn=True)``, the setting this engine uses).
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from services.common.errors import InvalidInput, ModelLoadFailed
from services.inference.llm.engine_info import EngineInfo
from services.inference.llm.engines.cpu_turns import DEFAULT_PATH, CpuTurns
from services.inference.llm.engines.llama_batch import common_prefix, put_token, usable_cores
from services.inference.llm.engines.llama_vocab import LlamaVocab
from services.inference.llm.engines.thread_choice import ThreadChoice
from services.inference.llm.sampling import SamplingParams
from services.inference.llm.scheduler import ContinuousBatcher
from services.inference.llm.sequence import Sequence

log = logging.getLogger("meshserve.llm")

#: llama.cpp's "pick a random seed" value for the dist sampler.
RANDOM_SEED = 0xFFFFFFFF
#: Largest micro-batch (tokens one graph evaluates): under 64, see the context's ``n_ubatch``.
MAX_UBATCH = 63


def available() -> bool:
    """Whether llama-cpp-python is installed."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class _Slot:
    """A running sequence's place in the context: its sequence id and sampler chain."""

    seq_id: int
    sampler: Any  # None: plain greedy, the arg-max of the logits row


class LlamaCppEngine(ContinuousBatcher):
    """A GGUF model in llama.cpp and the scheduler thread that serves its sequences."""

    def __init__(
        self,
        source: Path,
        *,
        max_batch: int = 16,
        name: str = "llm",
        context_tokens: int = 0,
        threads: int = 0,
        gpu_layers: int = 0,
        reason: str = "",
        adaptive_threads: bool = True,
        cpu_turns: bool = True,
    ) -> None:
        import llama_cpp
        from llama_cpp import _internals

        started = time.perf_counter()
        # llama.cpp logs through llama-cpp-python's logger; below ERROR it would print every load step.
        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
        self._llama = llama_cpp
        model_params = llama_cpp.llama_model_default_params()
        model_params.n_gpu_layers = gpu_layers
        try:
            self._model = _internals.LlamaModel(path_model=str(source), params=model_params, verbose=False)
        except (ValueError, RuntimeError) as error:
            raise ModelLoadFailed(
                f"llama.cpp cannot load {source}: {error}", details={"path": str(source)}
            ) from error
        trained = self._model.n_ctx_train()
        context = min(trained, context_tokens) if context_tokens > 0 else trained
        threads = threads if threads > 0 else usable_cores()
        params = llama_cpp.llama_context_default_params()
        params.n_seq_max = max_batch
        # One stream of `context` cells per sequence (kv_unified off): a unified cache is faster at
        # 16 sequences (measured 257 against 182 tokens/s here), but a sequence's cells then land
        # wherever the others left holes, and its greedy output changes with its batch neighbours.
        params.n_ctx = context * max_batch
        # One decode carries a whole prompt, or one token of every running sequence.
        self._batch_tokens = max(context, max_batch)
        params.n_batch = self._batch_tokens
        # Micro-batches under 64 tokens: after one of 64 or more, llama.cpp's CPU flash attention
        # (llama-cpp-python 0.3.36) went on reading KV cells that llama_memory_seq_rm had removed, so
        # a prompt cut from a longer cached one answered from the removed turn. Prefill was no slower
        # here (276 tokens/s at 63, 245 at 512, a 601-token prompt, 2 threads).
        params.n_ubatch = min(MAX_UBATCH, self._batch_tokens)
        params.n_threads = params.n_threads_batch = threads
        # Flash attention: faster here (182 against 139 tokens/s at 16 sequences), and with it a
        # sequence's greedy output is the same alone or in any batch (without it, it was not).
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
        params.no_perf = True
        try:
            self._ctx = _internals.LlamaContext(model=self._model, params=params, verbose=False)
        except ValueError as error:
            raise ModelLoadFailed(
                f"llama.cpp cannot create a context of {context} tokens x {max_batch} sequences: {error}",
                details={"path": str(source), "context_tokens": context, "max_batch": max_batch},
            ) from error
        self._batch = _internals.LlamaBatch(n_tokens=self._batch_tokens, embd=0, n_seq_max=1, verbose=False)
        self._n_vocab = llama_cpp.llama_vocab_n_tokens(self._model.vocab)
        eos = frozenset(t for t in range(self._n_vocab) if llama_cpp.llama_vocab_is_eog(self._model.vocab, t))
        self._free_slots = list(range(max_batch))
        #: The tokens whose KV cells each slot holds (kept after its sequence leaves: the prompt cache).
        self._slot_tokens: list[list[int]] = [[] for _ in range(max_batch)]
        offloaded = gpu_layers != 0 and bool(llama_cpp.llama_supports_gpu_offload())
        info = EngineInfo(
            "llama.cpp",
            "cuda" if offloaded else "cpu",
            context,
            reason,
            threads,
            self._n_vocab,
            quantization=self._model.desc().rsplit(" ", 1)[-1],  # "llama 135M Q4_1"
        )
        #: How many threads each decode uses (see thread_choice.py); fixed when not adaptive.
        self._thread_choice = ThreadChoice(threads, adaptive=adaptive_threads and not offloaded)
        self._threads_set = threads
        #: Decodes on the CPU take turns with the machine's other engines (see cpu_turns.py).
        self._turns = CpuTurns(DEFAULT_PATH if cpu_turns and not offloaded else None)
        self.vocab = LlamaVocab(self._model)
        self._embedding: Any = None  # a second context, for embeddings (made on first use)
        self._embedding_batch: Any = None
        self._embedding_lock = threading.Lock()
        super().__init__(info, self.vocab, eos, max_batch, name)
        self.parameters = int(llama_cpp.llama_model_n_params(self._model.model))
        self.load_seconds = time.perf_counter() - started
        log.info(
            "language model loaded in llama.cpp",
            extra={"path": str(source), "threads": threads, "context": context, "slots": max_batch},
        )
        self._start()

    # ---- requests -------------------------------------------------------------------------------

    def encode(self, prompt: str, messages: list[dict[str, str]]) -> list[int]:
        """Prompt token ids, as ``Llama.create_chat_completion`` / ``create_completion`` make them."""
        return self.vocab.encode(prompt, messages)

    def text_of(self, ids: list[int]) -> str:
        """The text that prompt token ids stand for."""
        return self.vocab.text_of(ids)

    def tokenize(self, text: str, add_special_tokens: bool) -> list[int]:
        """A text's token ids (see :meth:`LlamaVocab.tokenize`)."""
        return self.vocab.tokenize(text, add_special_tokens)

    def token_strs(self, ids: list[int]) -> list[str]:
        """Each token as the vocabulary spells it."""
        return self.vocab.spellings(ids)

    def tokenizer_info(self) -> dict[str, Any]:
        """Special tokens and chat template (see :meth:`LlamaVocab.info`)."""
        return self.vocab.info()

    # ---- engine ---------------------------------------------------------------------------------

    def _admissible(self, seq: Sequence, admitted: list[Sequence]) -> bool:
        # Prompts are evaluated one by one before the step's decode: bound the prompt tokens one
        # step evaluates, so running sequences wait for at most about one context's worth.
        planned = sum(len(s.prompt_ids) for s in admitted)
        return not admitted or planned + len(seq.prompt_ids) <= self._batch_tokens

    def _step(self, admitted: list[Sequence]) -> None:
        running = [s for s in self._running if s.finish_reason == ""]
        for seq in admitted:
            self._prefill(seq)
        if not running:
            return
        batch = self._batch.batch
        for row, seq in enumerate(running):
            put_token(batch, row, seq.last_token, seq.cache_len, seq.state.seq_id, True)
            self._slot_tokens[seq.state.seq_id].append(seq.last_token)
        batch.n_tokens = len(running)
        self._decode(len(running))
        for row, seq in enumerate(running):
            seq.cache_len += 1
            self._sample(seq, row)

    def _prefill(self, seq: Sequence) -> None:
        """Takes the free slot caching the longest prefix of the prompt and evaluates the rest."""
        prompt = seq.prompt_ids
        slot = max(self._free_slots, key=lambda s: common_prefix(self._slot_tokens[s], prompt))
        self._free_slots.remove(slot)
        # At least the prompt's last token is evaluated: its logits pick the first output token.
        # Scoring the prompt needs the logits of every position: nothing of it is taken from cache.
        scored = seq.params.prompt_logprobs
        cached = 0 if scored else min(common_prefix(self._slot_tokens[slot], prompt), len(prompt) - 1)
        self._llama.llama_memory_seq_rm(self._ctx.memory, slot, cached, -1)
        self._slot_tokens[slot] = list(prompt)
        seq.state = _Slot(slot, self._sampler(seq.params))
        seq.cached_tokens = cached
        self._join(seq)
        batch = self._batch.batch
        for row, token in enumerate(prompt[cached:]):
            put_token(batch, row, token, cached + row, slot, scored or cached + row == len(prompt) - 1)
        batch.n_tokens = len(prompt) - cached
        self._decode(batch.n_tokens)
        seq.cache_len = len(prompt)
        if scored:
            self._score_prompt(seq, self._logits_row)
        self._sample(seq, batch.n_tokens - 1)

    def _decode(self, tokens: int) -> None:
        threads = self._thread_choice.pick(tokens)
        with self._turns.turn():
            if threads != self._threads_set:
                self._llama.llama_set_n_threads(self._ctx.ctx, threads, threads)
                self._threads_set = threads
            started = time.perf_counter()
            code = self._llama.llama_decode(self._ctx.ctx, self._batch.batch)
            self._thread_choice.record(tokens, threads, time.perf_counter() - started)
        if code != 0:
            raise RuntimeError(f"llama_decode returned {code} for a batch of {tokens} tokens")

    def _logits_row(self, row: int) -> np.ndarray:
        """The logits of one row of the last decoded batch: llama.cpp's own buffer, not a copy."""
        pointer = self._llama.llama_get_logits_ith(self._ctx.ctx, row)
        return np.ctypeslib.as_array(ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)), (self._n_vocab,))

    def _sample(self, seq: Sequence, row: int) -> None:
        # The row is llama.cpp's own logits buffer: a grammar's mask written into it is what the
        # sampler chain reads.
        logits = self._logits_row(row)
        chain = seq.state.sampler
        if chain is None:  # llama.cpp's greedy sampler also takes the first arg-max
            self._choose(seq, logits, lambda: int(logits.argmax()))
            return
        sampler = chain.sampler
        self._choose(seq, logits, lambda: self._llama.llama_sampler_sample(sampler, self._ctx.ctx, row))

    def token_bytes(self, token: int) -> bytes:
        """The bytes of one token, as llama.cpp's vocabulary holds them (empty for control tokens)."""
        return self.vocab.piece(token)

    def _grammar_tokenizer(self) -> Any:
        from llguidance.llamacpp import lltokenizer_from_vocab

        return lltokenizer_from_vocab(self._model.vocab, n_vocab=self._n_vocab)

    def _sampler(self, params: SamplingParams) -> Any:
        """A llama.cpp sampler chain for one sequence, in the OpenAI order: logit bias, penalties,
        temperature, top-k, top-p, then a (seeded) draw; greedy takes the arg-max after the penalties.

        Plain greedy (no bias, no penalty) has no chain (None): the arg-max of the row is the same
        token, and a chain would copy the whole vocabulary into its candidates first (measured: 16
        sequences decode 172 tokens/s with chains against 231 without, one sequence 81 against 168)."""
        from llama_cpp import _internals

        if params.greedy and not (params.logit_bias or params.frequency_penalty or params.presence_penalty):
            return None
        chain = _internals.LlamaSampler()
        if params.logit_bias:
            chain.add_logit_bias(self._n_vocab, dict(params.logit_bias))
        if params.frequency_penalty or params.presence_penalty:
            chain.add_penalties(
                self._n_vocab, self.context_length, 1.0, params.frequency_penalty, params.presence_penalty
            )
        if params.greedy:
            chain.add_greedy()
            return chain
        chain.add_temp(params.temperature)
        if params.top_k > 0:
            chain.add_top_k(params.top_k)
        if params.top_p < 1.0:
            chain.add_top_p(params.top_p, 1)
        chain.add_dist(RANDOM_SEED if params.seed is None else params.seed & 0xFFFFFFFF)
        return chain

    def _release(self, gone: list[Sequence]) -> None:
        # The slot keeps its cells (and _slot_tokens says which): the next prompt may reuse them.
        for seq in gone:
            slot: _Slot | None = seq.state
            if slot is None:
                continue
            if slot.sampler is not None:
                slot.sampler.close()
            self._free_slots.append(slot.seq_id)
            seq.state = None

    def _forget(self) -> None:
        # After a failed step the cells may not hold what _slot_tokens says: no prompt is cached.
        self._llama.llama_memory_clear(self._ctx.memory, True)
        self._slot_tokens = [[] for _ in self._slot_tokens]

    def embed(self, texts: list[str | list[int]]) -> tuple[list[list[float]], int]:
        """Each text's final hidden states, mean-pooled, in a context of its own (embeddings on,
        one sequence) that is cleared before every text; and the tokens read."""
        with self._embedding_lock:
            ctx = self._embedding_context()
            n_embd = self._llama.llama_model_n_embd(self._model.model)
            batch = self._embedding_batch.batch
            vectors, tokens = [], 0
            for position, text in enumerate(texts):
                ids = (
                    text
                    if isinstance(text, list)
                    else self._model.tokenize(text.encode(), add_bos=True, special=False)
                )
                if len(ids) > self.context_length:
                    raise InvalidInput(
                        f"input[{position}] is {len(ids)} tokens; the model's context holds {self.context_length}",
                        details={
                            "field": f"input[{position}]",
                            "max_length": self.context_length,
                            "unit": "tokens",
                        },
                    )
                self._llama.llama_memory_clear(ctx.memory, True)
                for row, token in enumerate(ids):
                    put_token(batch, row, token, row, 0, True)
                batch.n_tokens = len(ids)
                with self._turns.turn():
                    code = self._llama.llama_decode(ctx.ctx, batch)
                if code != 0:
                    raise RuntimeError(f"llama_decode returned {code} embedding {len(ids)} tokens")
                pointer = self._llama.llama_get_embeddings_seq(ctx.ctx, 0)
                values = np.ctypeslib.as_array(
                    ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)), (n_embd,)
                )
                vectors.append(values.tolist())
                tokens += len(ids)
            return vectors, tokens

    def _embedding_context(self) -> Any:
        """The context embeddings are computed in, made on first use (its own small KV cache)."""
        if self._embedding is None:
            from llama_cpp import _internals

            params = self._llama.llama_context_default_params()
            params.embeddings = True
            params.pooling_type = self._llama.LLAMA_POOLING_TYPE_MEAN
            params.n_seq_max = 1
            params.n_ctx = params.n_batch = params.n_ubatch = self.context_length
            params.n_threads = params.n_threads_batch = self.info.threads
            params.no_perf = True
            self._embedding = _internals.LlamaContext(model=self._model, params=params, verbose=False)
            self._embedding_batch = _internals.LlamaBatch(
                n_tokens=self.context_length, embd=0, n_seq_max=1, verbose=False
            )
        return self._embedding

    def _close(self) -> None:
        with self._embedding_lock:
            if self._embedding is not None:
                self._embedding_batch.close()
                self._embedding.close()
        self._batch.close()
        self._ctx.close()
        self._model.close()
        self._turns.close()
