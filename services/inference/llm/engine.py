"""Continuous batching: one scheduler thread runs every live sequence in the same forward pass.

Iteration-level scheduling in the way of vLLM: on each step new sequences are prefilled and joined to
the running batch, one decode step runs for the whole batch, finished or cancelled sequences leave at
once. The batch keeps one KV cache, left-padded so every row ends at the same column; an attention
mask hides the padding and explicit position ids keep each row's rotary positions its own, so a row's
logits match what it would get alone. No transport imports: the Triton model and tests drive it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from services.common.errors import InvalidInput, MeshError
from services.inference.llm.detokenize import TextStream
from services.inference.llm.loader import LoadedModel
from services.inference.llm.sampling import Sampler, SamplingParams

log = logging.getLogger("meshserve.llm")

ROLES = ("system", "user", "assistant", "tool")

#: Receives each event of a sequence: {"text", "index"} while running; the last one adds
#: "finish_reason", "usage" and "mean_logprob" (the mean natural-log probability the model's own,
#: unscaled distribution gave the tokens produced: a confidence, see :func:`token_logprobs`); a failure is {"error": {"code", "message", "details"}}; a sequence
#: dropped because its caller went away ends with {"cancelled": true}.
Emit = Callable[[dict[str, Any]], None]


@dataclass
class Sequence:
    """One request being generated."""

    id: str
    prompt_ids: list[int]
    params: SamplingParams
    emit: Emit
    is_cancelled: Callable[[], bool] = lambda: False
    sampler: Sampler = field(init=False)
    text: TextStream = field(init=False)
    output_ids: list[int] = field(default_factory=list)
    logprob_sum: float = 0.0
    cache_len: int = 0
    chunks: int = 0
    cancelled: bool = False
    finish_reason: str = ""
    submitted_at: float = field(default_factory=time.monotonic)

    @property
    def last_token(self) -> int:
        """The token to feed next."""
        return self.output_ids[-1]


class LLMEngine:
    """A loaded model and the scheduler thread that serves its sequences."""

    def __init__(self, loaded: LoadedModel, max_batch: int = 16, name: str = "llm") -> None:
        self.loaded = loaded
        self.name = name
        self.max_batch = max_batch
        self._waiting: deque[Sequence] = deque()
        self._running: list[Sequence] = []
        self._cache: Any = None
        self._mask: torch.Tensor | None = None
        self._lock = threading.Condition()
        self._stopping = False
        self.completed = 0
        self.tokens_generated = 0
        self._thread = threading.Thread(target=self._loop, name=f"llm-{name}", daemon=True)
        self._thread.start()

    # ---- requests -------------------------------------------------------------------------------

    def encode(self, prompt: str, messages: list[dict[str, str]]) -> list[int]:
        """Prompt token ids: chat messages through the model's chat template, else the raw prompt."""
        tokenizer = self.loaded.tokenizer
        if messages:
            for position, message in enumerate(messages):
                if message.get("role") not in ROLES:
                    raise InvalidInput(
                        f"messages[{position}].role must be one of {', '.join(ROLES)}",
                        details={"field": f"messages[{position}].role", "provided": message.get("role")},
                    )
            rendered = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=True, return_dict=True
            )
            return list(rendered["input_ids"])
        return list(tokenizer(prompt)["input_ids"])

    def check_context(self, prompt_ids: list[int], max_tokens: int, explicit: bool) -> int:
        """The max_tokens to use; INVALID_INPUT (document 004 §8.4 details) when it cannot fit."""
        context = self.loaded.context_length
        if len(prompt_ids) >= context:
            raise InvalidInput(
                f"prompt is {len(prompt_ids)} tokens; the model's context holds {context}",
                details={
                    "field": "prompt",
                    "max_length": context,
                    "provided_length": len(prompt_ids),
                    "unit": "tokens",
                },
                suggestion="shorten the prompt",
            )
        room = context - len(prompt_ids)
        if max_tokens > room:
            if not explicit:
                return room
            raise InvalidInput(
                f"prompt ({len(prompt_ids)} tokens) plus max_tokens ({max_tokens}) exceeds the context of {context}",
                details={
                    "field": "max_tokens",
                    "max_length": context,
                    "provided_length": len(prompt_ids) + max_tokens,
                    "prompt_tokens": len(prompt_ids),
                    "max_tokens_allowed": room,
                },
                suggestion=f"ask for at most {room} tokens",
            )
        return max_tokens

    def submit(
        self,
        seq_id: str,
        prompt_ids: list[int],
        params: SamplingParams,
        emit: Emit,
        is_cancelled: Callable[[], bool] | None = None,
    ) -> Sequence:
        """Queues a sequence; it joins the running batch on the next step."""
        seq = Sequence(seq_id, prompt_ids, params, emit, is_cancelled or (lambda: False))
        seq.sampler = Sampler(params)
        seq.text = TextStream(self.loaded.tokenizer, params.stop)
        with self._lock:
            self._waiting.append(seq)
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
        """Active and waiting sequences, slots and totals."""
        with self._lock:
            return {
                "model": self.name,
                "active": len(self._running),
                "waiting": len(self._waiting),
                "slots": self.max_batch,
                "completed": self.completed,
                "tokens_generated": self.tokens_generated,
                "device": self.loaded.device,
                "context_length": self.loaded.context_length,
            }

    def stop(self) -> None:
        """Ends the scheduler thread; sequences still live get an error event."""
        with self._lock:
            self._stopping = True
            self._lock.notify()
        self._thread.join(timeout=10)

    # ---- scheduler ------------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and not self._waiting and not self._running:
                    self._lock.wait()
                if self._stopping:
                    break
                admitted = []
                while self._waiting and len(self._running) + len(admitted) < self.max_batch:
                    admitted.append(self._waiting.popleft())
            try:
                with torch.inference_mode():
                    for seq in admitted:
                        if self._dropped(seq):
                            self._send(seq, {"cancelled": True})
                        else:
                            self._prefill(seq)
                    self._drop_finished()
                    if self._running:
                        self._decode()
                        self._drop_finished()
            except Exception as error:  # one bad step must not kill the scheduler
                log.exception("generation step failed")
                self._fail_all(error)
        self._fail_all(MeshError("the language model is shutting down"))

    def _dropped(self, seq: Sequence) -> bool:
        """Whether the caller went away (checked before spending compute on it)."""
        if not seq.cancelled:
            try:
                seq.cancelled = bool(seq.is_cancelled())
            except Exception:
                seq.cancelled = True
        return seq.cancelled

    def _prefill(self, seq: Sequence) -> None:
        device = self.loaded.device
        ids = torch.tensor([seq.prompt_ids], dtype=torch.long, device=device)
        out = self.loaded.model(input_ids=ids, use_cache=True)
        seq.cache_len = len(seq.prompt_ids)
        self._join(seq, out.past_key_values)
        logits = out.logits[:, -1, :]
        token = seq.sampler.next_token(logits[0])
        self._accept(seq, token, token_logprobs(logits, [token])[0])

    def _join(self, seq: Sequence, cache: Any) -> None:
        """Adds a prefilled sequence's cache as a new row, left-padding whichever side is shorter."""
        from transformers import DynamicCache

        device = self.loaded.device
        new_len = seq.cache_len
        if self._cache is None:
            self._cache = cache
            self._mask = torch.ones((1, new_len), dtype=torch.long, device=device)
            self._running = [seq]
            return
        assert self._mask is not None
        old_len = self._mask.shape[1]
        width = max(old_len, new_len)
        layers = []
        for old, new in zip(self._cache.layers, cache.layers, strict=True):
            keys = torch.cat([_left_pad(old.keys, width), _left_pad(new.keys, width)], dim=0)
            values = torch.cat([_left_pad(old.values, width), _left_pad(new.values, width)], dim=0)
            layers.append((keys, values))
        self._cache = DynamicCache(ddp_cache_data=layers)
        old_mask = torch.nn.functional.pad(self._mask, (width - old_len, 0))
        new_mask = torch.zeros((1, width), dtype=torch.long, device=device)
        new_mask[:, width - new_len :] = 1
        self._mask = torch.cat([old_mask, new_mask], dim=0)
        self._running.append(seq)

    def _decode(self) -> None:
        assert self._mask is not None
        device = self.loaded.device
        rows = len(self._running)
        input_ids = torch.tensor([[s.last_token] for s in self._running], dtype=torch.long, device=device)
        positions = torch.tensor([[s.cache_len] for s in self._running], dtype=torch.long, device=device)
        self._mask = torch.cat([self._mask, torch.ones((rows, 1), dtype=torch.long, device=device)], dim=1)
        out = self.loaded.model(
            input_ids=input_ids,
            attention_mask=self._mask,
            position_ids=positions,
            past_key_values=self._cache,
            use_cache=True,
        )
        self._cache = out.past_key_values
        logits = out.logits[:, -1, :]
        picked: list[tuple[Sequence, int]] = []
        for row, seq in enumerate(self._running):
            seq.cache_len += 1
            # A finished row still holds its place in the batch; it gets a token nobody reads.
            picked.append((seq, seq.sampler.next_token(logits[row]) if not seq.finish_reason else 0))
        logprobs = token_logprobs(logits, [token for _, token in picked])
        for (seq, token), logprob in zip(picked, logprobs, strict=True):
            if not seq.finish_reason:
                self._accept(seq, token, logprob)

    def _accept(self, seq: Sequence, token: int, logprob: float) -> None:
        """Records a sampled token, emits its text, decides whether the sequence is done."""
        self.tokens_generated += 1
        seq.output_ids.append(token)
        seq.logprob_sum += logprob
        if token in self.loaded.eos_token_ids:
            seq.finish_reason = "stop"
        else:
            delta = seq.text.push(token)
            if seq.text.stopped:
                seq.finish_reason = "stop"
            elif len(seq.output_ids) >= seq.params.max_tokens:
                seq.finish_reason = "length"
            if delta and not seq.finish_reason:
                self._send(seq, {"text": delta, "index": seq.chunks})
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
                    "usage": {"prompt_tokens": len(seq.prompt_ids), "completion_tokens": len(seq.output_ids)},
                    "mean_logprob": seq.logprob_sum / len(seq.output_ids),
                },
            )

    def _send(self, seq: Sequence, event: dict[str, Any]) -> None:
        try:
            seq.emit(event)
        except Exception:  # the receiver is gone: treat as a cancel
            log.info("sequence receiver gone", extra={"sequence": seq.id})
            seq.cancelled = True

    def _drop_finished(self) -> None:
        """Removes finished and cancelled rows from the batch and trims padding no row needs."""
        keep = [i for i, s in enumerate(self._running) if not s.finish_reason and not self._dropped(s)]
        gone = [s for i, s in enumerate(self._running) if i not in keep]
        if not gone:
            return
        for seq in gone:
            if not seq.finish_reason:
                # A decoupled request must still be closed with a final reply, even when nobody reads it.
                self._send(seq, {"cancelled": True})
        with self._lock:
            if not keep:
                self._running, self._cache, self._mask = [], None, None
                return
            index = torch.tensor(keep, dtype=torch.long, device=self.loaded.device)
            self._cache.batch_select_indices(index)
            assert self._mask is not None
            mask = self._mask[index]
            first = int(mask.any(dim=0).long().argmax().item())
            if first:
                for layer in self._cache.layers:
                    layer.keys = layer.keys[:, :, first:, :]
                    layer.values = layer.values[:, :, first:, :]
                mask = mask[:, first:]
            self._mask = mask
            self._running = [self._running[i] for i in keep]

    def _fail_all(self, error: Exception) -> None:
        with self._lock:
            victims = [*self._waiting, *self._running]
            self._waiting.clear()
            self._running, self._cache, self._mask = [], None, None
        event = error_event(error)
        for seq in victims:
            self._send(seq, event)


def token_logprobs(logits: torch.Tensor, tokens: list[int]) -> list[float]:
    """Log-probability of ``tokens[i]`` under row ``i`` of ``logits`` (one softmax for the batch).

    The model's own distribution (temperature 1, no penalties or truncation), so the mean over a
    sequence says how likely the model found the text, whatever sampling picked it.
    """
    rows = torch.arange(len(tokens), device=logits.device)
    index = torch.tensor(tokens, dtype=torch.long, device=logits.device)
    return torch.log_softmax(logits.float(), dim=-1)[rows, index].tolist()


def _left_pad(tensor: torch.Tensor, width: int) -> torch.Tensor:
    """Pads the sequence axis (-2) of a [batch, heads, seq, dim] tensor on the left with zeros."""
    missing = width - tensor.shape[-2]
    return torch.nn.functional.pad(tensor, (0, 0, missing, 0)) if missing else tensor


def error_event(error: Exception) -> dict[str, Any]:
    """A failure as the event the receiver turns back into a canonical error."""
    if isinstance(error, MeshError):
        return {"error": {"code": error.code, "message": error.message, "details": error.details}}
    return {"error": {"code": "INFERENCE_FAILED", "message": f"generation failed: {error}", "details": {}}}
