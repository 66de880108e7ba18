"""One request being generated, as the scheduler and the engines hold it, and the event contract
it answers through. No transport imports."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.inference.llm.detokenize import TextStream
from services.inference.llm.grammar import Grammar
from services.inference.llm.sampling import SamplingParams

#: Receives each event of a sequence: {"text", "index"} while running; the last one adds
#: "finish_reason", "usage" and "mean_logprob" (the mean natural-log probability the model's own,
#: unscaled distribution gave the tokens produced: a confidence). With ``logprobs``, an event also
#: carries "logprobs": [{"token", "bytes", "logprob", "top": [{"token", "bytes", "logprob"}]}] for
#: the tokens produced since the previous event (under the same distribution); a failure is
#: {"error": {"code", "message", "details"}}; a sequence dropped because its caller went away ends
#: with {"cancelled": true, "usage": {...}}: what it had evaluated and generated (metering bills it).
Emit = Callable[[dict[str, Any]], None]


class Detokenizer(Protocol):
    """What :class:`TextStream` needs of a tokenizer."""

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        """The text of a list of token ids."""
        ...


@dataclass(eq=False)
class Sequence:
    """One request being generated."""

    id: str
    prompt_ids: list[int]
    params: SamplingParams
    emit: Emit
    text: TextStream
    is_cancelled: Callable[[], bool] = lambda: False
    output_ids: list[int] = field(default_factory=list)
    logprob_sum: float = 0.0
    #: Tokens of this sequence held in the engine's cache.
    cache_len: int = 0
    #: Prompt tokens whose cache an earlier sequence left (not evaluated again).
    cached_tokens: int = 0
    chunks: int = 0
    cancelled: bool = False
    finish_reason: str = ""
    submitted_at: float = field(default_factory=time.monotonic)
    #: Queue priority (higher is admitted sooner) and the head start each level is worth, in seconds
    #: (:func:`services.inference.priority.rank`).
    priority: int = 0
    aging_seconds: float = 0.0
    #: Seconds from submission to admission into the batch (set when admitted).
    queue_seconds: float = 0.0
    #: The engine's own per-sequence state (a cache slot, a sampler).
    state: Any = None
    #: The constraint of a structured-output request.
    grammar: Grammar | None = None
    #: With ``logprobs``: entries of the tokens not yet sent.
    pending_logprobs: list[dict[str, Any]] = field(default_factory=list)
    #: With ``prompt_logprobs``: the prompt's entries, until the first event carries them.
    pending_prompt_logprobs: list[dict[str, Any]] | None = None

    @property
    def last_token(self) -> int:
        """The token to feed next."""
        return self.output_ids[-1]


def cancelled_event(seq: Sequence, evaluated: bool) -> dict[str, Any]:
    """The last event of a sequence dropped on cancel, with the tokens it had cost so far
    (``evaluated``: its prompt had been run, so it counts)."""
    return {
        "cancelled": True,
        "usage": {
            "prompt_tokens": len(seq.prompt_ids) if evaluated else 0,
            "completion_tokens": len(seq.output_ids),
            "cached_tokens": seq.cached_tokens if evaluated else 0,
        },
    }
