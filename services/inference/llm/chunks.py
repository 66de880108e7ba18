"""What a generation produces, as the service reports it (chunks with their tokens' log-probabilities),
and what it cost, added up from its choices' last events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.inference.llm.tools import ToolCall


@dataclass(frozen=True)
class TopLogprob:
    """One alternative at a token's position."""

    token: str
    logprob: float
    bytes: bytes


@dataclass(frozen=True)
class TokenLogprob:
    """A token, its log-probability, and the most likely alternatives at its position. A prompt's
    first token has no log-probability (``None``): nothing before it predicts it."""

    token: str
    logprob: float | None
    bytes: bytes
    top: tuple[TopLogprob, ...] = ()

    @classmethod
    def from_event(cls, item: dict[str, Any]) -> TokenLogprob:
        """One entry of a worker event's ``logprobs`` list."""
        return cls(
            token=str(item["token"]),
            logprob=None if item["logprob"] is None else float(item["logprob"]),
            bytes=bytes(item["bytes"]),
            top=tuple(
                TopLogprob(str(t["token"]), float(t["logprob"]), bytes(t["bytes"]))
                for t in item.get("top", ())
            ),
        )


@dataclass(frozen=True)
class Chunk:
    """One step of a generation as the service reports it."""

    text: str
    index: int
    model: str
    device: str
    request_id: str
    created: int
    finish_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: Prompt tokens the engine's prompt cache held (not evaluated again).
    cached_tokens: int = 0
    #: Last chunk only: mean log-probability of the generated tokens (the engine's confidence).
    mean_logprob: float | None = None
    #: Which of the request's ``n`` choices this chunk belongs to.
    choice: int = 0
    #: With ``logprobs``: the tokens whose text this chunk carries.
    logprobs: tuple[TokenLogprob, ...] = ()
    #: With ``echo`` and ``logprobs``, on a choice's first chunk: the prompt's tokens (``echo``
    #: puts them before the chunk's own).
    prompt_logprobs: tuple[TokenLogprob, ...] = ()
    #: Served from the response cache rather than generated now.
    cached: bool = False
    #: A choice's last chunk, when its reply was a call of the request's tools.
    tool_calls: tuple[ToolCall, ...] = ()
    #: Last chunk only: seconds the sequence waited for a batch slot on its worker.
    queue_seconds: float = 0.0


@dataclass
class UsageTally:
    """What a generation cost, as the engine reported at each choice's end (finished, or dropped
    on cancel): the prompt counts once, as in the reply's usage; every choice's tokens count."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    ended: int = 0

    def add(self, usage: dict[str, Any]) -> None:
        """Adds one choice's last event's usage."""
        self.prompt_tokens = max(self.prompt_tokens, int(usage.get("prompt_tokens", 0)))
        self.completion_tokens += int(usage.get("completion_tokens", 0))
        self.ended += 1
