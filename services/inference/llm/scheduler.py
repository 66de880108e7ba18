"""Continuous batching, independent of the engine: one scheduler thread, sequences joining and leaving.

Iteration-level scheduling in the way of vLLM and llama.cpp's server: on each step the sequences
waiting for a slot are admitted (as far as the engine has room), one forward pass runs for the whole
batch, and finished or cancelled sequences leave at once, freeing their slot for the next step.

:class:`ContinuousBatcher` holds what every engine shares: the queue, admission, cancellation, text
streaming with stop sequences, finish reasons, usage and the event contract below. An engine
subclass only runs the model (:meth:`ContinuousBatcher._step`) and frees a sequence's cache
(:meth:`ContinuousBatcher._release`). No transport imports: the Triton model and tests drive it.

**Admission order: priority with aging.** Waiting sequences are admitted by rank,
``submitted_at - priority * aging_seconds``, smallest first (:mod:`services.inference.priority`):
each priority level is a head start of ``aging_seconds`` in the queue, so a premium request passes
free ones that arrived less than its head start before it, and a free request that has waited longer
than that goes before premium ones arriving later: lower priority is never starved. Each sequence's
wait from submission to admission is its ``queue_seconds``, reported in its final event.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np

from services.common.errors import InvalidInput, MeshError
from services.inference.llm.detokenize import TextStream
from services.inference.llm.engine_info import EngineInfo, InfoBackedEngine, TokenRate
from services.inference.llm.grammar import Grammar, GrammarCompiler
from services.inference.llm.limits import error_event
from services.inference.llm.sampling import SamplingParams
from services.inference.llm.sequence import Detokenizer, Emit, Sequence, cancelled_event
from services.inference.priority import AgingQueue

log = logging.getLogger("meshserve.llm")


class ContinuousBatcher(InfoBackedEngine, ABC):
    """The scheduler thread and the sequence bookkeeping every engine shares."""

    def __init__(
        self, info: EngineInfo, detokenizer: Detokenizer, eos_ids: frozenset[int], max_batch: int, name: str
    ) -> None:
        self.info = info
        self.name = name
        self.max_batch = max_batch
        self._detokenizer = detokenizer
        self._eos_ids = eos_ids
        self._waiting: AgingQueue[Sequence] = AgingQueue()
        self._running: list[Sequence] = []
        self._lock = threading.Condition()
        self._stopping = False
        self.completed = 0
        self.tokens_generated = 0
        self.rate = TokenRate()
        self._thread = threading.Thread(target=self._loop, name=f"llm-{name}", daemon=True)
        self.grammars = GrammarCompiler(self._grammar_tokenizer, info.vocab_size)

    def _start(self) -> None:
        """Starts the scheduler thread (subclasses call it once their model is ready)."""
        self._thread.start()

    # ---- requests -------------------------------------------------------------------------------

    @abstractmethod
    def encode(self, prompt: str, messages: list[dict[str, str]]) -> list[int]:
        """Prompt token ids: chat messages through the model's chat template, else the raw prompt."""

    def grammar(self, params: SamplingParams) -> Grammar | None:
        """The constraint of a request's response_format (None for free text); INVALID_INPUT when
        it cannot be compiled."""
        return self.grammars.compile(params.response_format or {}) if params.constrained else None

    def text_of(self, ids: list[int]) -> str:
        """The text that prompt token ids stand for, control tokens included."""
        return self._detokenizer.decode(ids, skip_special_tokens=False)

    def token_bytes(self, token: int) -> bytes:
        """The UTF-8 bytes of one token (a token may hold part of a character)."""
        return self._detokenizer.decode([token], skip_special_tokens=False).encode()

    def submit(
        self,
        seq_id: str,
        prompt_ids: list[int],
        params: SamplingParams,
        emit: Emit,
        is_cancelled: Callable[[], bool] | None = None,
        grammar: Grammar | None = None,
        priority: int = 0,
        aging_seconds: float = 0.0,
    ) -> Sequence:
        """Queues a sequence; it joins the running batch when its rank comes (see the module's
        docstring: ``priority`` levels of ``aging_seconds`` each)."""
        seq = Sequence(
            seq_id,
            prompt_ids,
            params,
            emit,
            TextStream(self._detokenizer, params.stop),
            is_cancelled or (lambda: False),
            grammar=grammar,
            priority=priority,
            aging_seconds=aging_seconds,
        )
        with self._lock:
            self._waiting.push(seq, seq.submitted_at, priority, aging_seconds)
            self._lock.notify()
        return seq

    def cancel(self, seq_id: str) -> None:
        """Marks a sequence cancelled; the scheduler drops it before its next step."""
        with self._lock:
            for seq in (*self._waiting, *self._running):
                if seq.id == seq_id:
                    seq.cancelled = True
            self._lock.notify()

    def stats(self) -> dict[str, Any]:
        """Active and waiting sequences, slots, totals and what serves the model."""
        with self._lock:
            return self.info.stats(
                self.name,
                active=len(self._running),
                waiting=len(self._waiting),
                slots=self.max_batch,
                completed=self.completed,
                tokens_generated=self.tokens_generated,
                tokens_per_second=round(self.rate.per_second(self.tokens_generated), 3),
            )

    def stop(self) -> None:
        """Ends the scheduler thread; sequences still live get an error event."""
        with self._lock:
            self._stopping = True
            self._lock.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        if not self._thread.is_alive():  # never free the model under a step still running
            self._close()

    # ---- what an engine provides ----------------------------------------------------------------

    def _admissible(self, seq: Sequence, admitted: list[Sequence]) -> bool:
        """Whether ``seq`` fits in this step beside ``admitted`` (room in the cache, the batch)."""
        return True

    @abstractmethod
    def _step(self, admitted: list[Sequence]) -> None:
        """One forward pass: prefills ``admitted``, decodes the running batch, and calls
        :meth:`_accept` once per sequence that produced a token."""

    @abstractmethod
    def _release(self, gone: list[Sequence]) -> None:
        """Frees what the engine holds for sequences leaving the batch (called under the lock,
        while ``self._running`` still lists them in batch order)."""

    def _grammar_tokenizer(self) -> Any:
        """The model's vocabulary as an llguidance tokenizer (for structured output)."""
        raise InvalidInput(
            f"the {self.info.engine} engine does not constrain output",
            details={"field": "response_format"},
        )

    def _close(self) -> None:
        """Frees the model once the scheduler has stopped."""

    def _forget(self) -> None:
        """Drops whatever the engine's cache holds beyond the running batch (after a failed step,
        what it holds is unknown)."""

    # ---- scheduler ------------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._lock:
                self.rate.note(self.tokens_generated)
                while not self._stopping and not self._waiting and not self._running:
                    self._lock.wait()
                    self.rate.note(self.tokens_generated)
                if self._stopping:
                    break
                admitted: list[Sequence] = []
                while self._waiting and len(self._running) + len(admitted) < self.max_batch:
                    if not self._admissible(self._waiting.peek(), admitted):
                        break
                    admitted.append(self._waiting.pop())
                now = time.monotonic()
                for seq in admitted:
                    seq.queue_seconds = now - seq.submitted_at
            live: list[Sequence] = []
            try:
                for seq in admitted:
                    if self._dropped(seq):
                        self._send(seq, cancelled_event(seq, evaluated=False))
                    else:
                        live.append(seq)
                if live or self._running:
                    self._step(live)
                    self._drop_finished()
            except Exception as error:  # one bad step must not kill the scheduler
                log.exception("generation step failed")
                # Admitted sequences the step had not joined yet are in neither queue: end them too.
                self._fail_all(error, [s for s in live if s not in self._running])
        self._fail_all(MeshError("the language model is shutting down"))

    def _dropped(self, seq: Sequence) -> bool:
        """Whether the caller went away or cancelled (checked before spending compute on it).

        ``seq.cancelled`` is only ever set to True, here or by :meth:`cancel` on another thread: a
        ``cancel`` arriving while ``is_cancelled`` is asked (a call to the Triton server) must not be
        overwritten by its False, or the sequence generates on until its stream is cancelled."""
        if seq.cancelled:
            return True
        try:
            gone = bool(seq.is_cancelled())
        except Exception:
            gone = True
        if gone:
            seq.cancelled = True
        return seq.cancelled

    def _join(self, seq: Sequence) -> None:
        """Adds a prefilled sequence to the running batch."""
        with self._lock:
            self._running.append(seq)

    def _choose(self, seq: Sequence, logits: np.ndarray, sample: Callable[[], int]) -> None:
        """Picks ``seq``'s next token and accepts it.

        ``logits`` is the sequence's row of raw logits, a float32 array that ``sample`` (the engine's
        sampler) reads: the grammar's mask is written into it first. Log-probabilities come from the
        row as the model gave it (temperature 1, before any mask, bias or penalty).
        """
        log_total, alternatives = _distribution(logits, seq.params.top_logprobs if seq.params.logprobs else 0)
        if seq.grammar is not None:
            try:
                seq.grammar.mask(logits)
            except Exception as error:  # this sequence's grammar broke: end it, not the batch
                self._fail(seq, error)
                return
        token = sample()
        logprob = float(logits[token]) - log_total  # the mask never touches the token it allowed
        if seq.grammar is not None:
            try:
                seq.grammar.accept(token)
            except Exception as error:
                self._fail(seq, error)
                return
        self._accept(seq, token, logprob, alternatives)

    def _fail(self, seq: Sequence, error: Exception) -> None:
        """Ends one sequence with an error event; it leaves the batch at the end of the step."""
        log.warning("sequence failed", extra={"sequence": seq.id, "error": str(error)})
        seq.finish_reason = "error"  # set: the batch drops it without a second final event
        self._send(seq, error_event(error))

    def _score_prompt(self, seq: Sequence, row: Callable[[int], np.ndarray]) -> None:
        """With ``prompt_logprobs``: each prompt token's log-probability given the tokens before it,
        from the prefill's logits (``row(r)`` predicts prompt token ``r + 1``); nothing predicts the
        first one, so it has none. The first event of the sequence carries them."""
        prompt, k = seq.prompt_ids, seq.params.top_logprobs
        entries = [self._logprob_entry(prompt[0], None, [])]
        for position, token in enumerate(prompt[1:]):
            logits = row(position)
            log_total, alternatives = _distribution(logits, k)
            entries.append(self._logprob_entry(token, float(logits[token]) - log_total, alternatives))
        seq.pending_prompt_logprobs = entries

    def _logprob_entry(
        self, token: int, logprob: float | None, alternatives: list[tuple[int, float]]
    ) -> dict[str, Any]:
        raw = self.token_bytes(token)
        return {
            "token": raw.decode("utf-8", errors="replace"),
            "bytes": list(raw),
            "logprob": logprob,
            "top": [
                {"token": b.decode("utf-8", errors="replace"), "bytes": list(b), "logprob": lp}
                for b, lp in ((self.token_bytes(t), lp) for t, lp in alternatives)
            ],
        }

    def _accept(
        self, seq: Sequence, token: int, logprob: float, alternatives: list[tuple[int, float]] | None = None
    ) -> None:
        """Records a sampled token, emits its text, decides whether the sequence is done.

        An end-of-generation token ends the sequence without joining its output: usage counts the
        tokens of the text, as llama.cpp and the OpenAI API do, and so do the logprobs. (Its
        log-probability stands in for the confidence of an answer that is empty.)"""
        if token in self._eos_ids:
            seq.finish_reason = "stop"
            if not seq.output_ids:
                seq.logprob_sum = logprob
            if seq.params.prompt_logprobs:  # echo lists every token the model chose, its end too
                seq.pending_logprobs.append(self._logprob_entry(token, logprob, alternatives or []))
        else:
            self.tokens_generated += 1  # the tokens of the text, as usage (and metering) counts them
            seq.output_ids.append(token)
            seq.logprob_sum += logprob
            if seq.params.logprobs:
                seq.pending_logprobs.append(self._logprob_entry(token, logprob, alternatives or []))
            delta = seq.text.push(token)
            if seq.text.stopped:
                seq.finish_reason = "stop"
            elif len(seq.output_ids) >= seq.params.max_tokens:
                seq.finish_reason = "length"
            if delta and not seq.finish_reason:
                self._send(seq, {"text": delta, "index": seq.chunks, **self._logprobs_of(seq)})
                seq.chunks += 1
                return
            if delta:
                seq.text.emitted -= len(delta)  # sent with the final event below
        if seq.finish_reason:
            tail = seq.text.flush()
            with self._lock:
                self.completed += 1  # counted before the final event, so whoever gets it sees the count
            self._send(
                seq,
                {
                    "text": tail,
                    "index": seq.chunks,
                    "finish_reason": seq.finish_reason,
                    "usage": {
                        "prompt_tokens": len(seq.prompt_ids),
                        "completion_tokens": len(seq.output_ids),
                        "cached_tokens": seq.cached_tokens,
                    },
                    "mean_logprob": seq.logprob_sum / max(1, len(seq.output_ids)),
                    "queue_seconds": round(seq.queue_seconds, 6),
                    **self._logprobs_of(seq),
                },
            )

    @staticmethod
    def _logprobs_of(seq: Sequence) -> dict[str, Any]:
        """The ``logprobs`` of an event: the entries not sent yet (none without ``logprobs``)."""
        if not seq.params.logprobs:
            return {}
        entries, seq.pending_logprobs = seq.pending_logprobs, []
        if seq.pending_prompt_logprobs is None:
            return {"logprobs": entries}
        prompt, seq.pending_prompt_logprobs = seq.pending_prompt_logprobs, None
        return {"logprobs": entries, "prompt_logprobs": prompt}

    def _send(self, seq: Sequence, event: dict[str, Any]) -> None:
        try:
            seq.emit(event)
        except Exception:  # the receiver is gone: treat as a cancel
            log.info("sequence receiver gone", extra={"sequence": seq.id})
            seq.cancelled = True

    def _drop_finished(self) -> None:
        """Removes finished and cancelled sequences from the batch and frees their cache."""
        gone = [s for s in self._running if s.finish_reason or self._dropped(s)]
        if not gone:
            return
        for seq in gone:
            if not seq.finish_reason:
                # A decoupled request must still be closed with a final reply, even when nobody reads it.
                self._send(seq, cancelled_event(seq, evaluated=True))
        with self._lock:
            self._release(gone)  # before the batch changes: an engine may index its rows by it
            self._running = [s for s in self._running if s not in gone]

    def _fail_all(self, error: Exception, unjoined: list[Sequence] | None = None) -> None:
        with self._lock:
            victims = [*self._waiting, *self._running, *(unjoined or [])]
            self._waiting.clear()
            try:
                self._release(list(self._running))
                self._forget()
            except Exception:  # the cache is being reset after a failure: nothing more to free
                log.exception("freeing the batch after a failure failed")
            self._running = []
        event = error_event(error)
        for seq in victims:
            self._send(seq, event)


def _distribution(logits: np.ndarray, k: int) -> tuple[float, list[tuple[int, float]]]:
    """The log of a logits row's normaliser, and its ``k`` most likely tokens with their
    log-probabilities, most likely first."""
    top = float(logits.max())
    log_total = top + float(np.log(np.exp(logits - top).sum()))
    if not k:
        return log_total, []
    best = np.argpartition(logits, -k)[-k:]
    return log_total, [(int(t), float(logits[t]) - log_total) for t in best[np.argsort(-logits[best])]]
