"""What an engine reports about itself: its facts (:class:`EngineInfo`) and its recent speed
(:class:`TokenRate`), the same row for every engine, and the calls every engine answers from its
facts (:class:`InfoBackedEngine`). No transport imports."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from services.inference.llm.limits import fit_context


@dataclass(frozen=True)
class EngineInfo:
    """What an engine reports about itself (in statistics and the model's details)."""

    #: ``llama.cpp``, ``transformers`` or ``vllm``.
    engine: str
    device: str
    context_length: int
    #: Why this engine serves the model (a fallback says so).
    reason: str = ""
    threads: int = 0
    #: Token ids run from 0 to vocab_size - 1 (the width of the logits).
    vocab_size: int = 0
    #: The weights' precision as the engine names it (Q4_1, F16, F32 …).
    quantization: str = ""

    def stats(
        self,
        model: str,
        *,
        active: int,
        waiting: int,
        slots: int,
        completed: int,
        tokens_generated: int,
        tokens_per_second: float = 0.0,
    ) -> dict[str, Any]:
        """The worker protocol's statistics row (``{"stats": …}``), the same for every engine."""
        return {
            "model": model,
            "active": active,
            "waiting": waiting,
            "slots": slots,
            "completed": completed,
            "tokens_generated": tokens_generated,
            "device": self.device,
            "context_length": self.context_length,
            "engine": self.engine,
            "engine_reason": self.reason,
            "threads": self.threads,
            "vocab_size": self.vocab_size,
            "quantization": self.quantization,
            "tokens_per_second": tokens_per_second,
        }


class InfoBackedEngine:
    """The calls an engine answers from its :class:`EngineInfo` (``self.info``), the same for every
    engine: where it runs, its context and vocabulary, and the context rule."""

    info: EngineInfo

    @property
    def device(self) -> str:
        """Where the model runs."""
        return self.info.device

    @property
    def context_length(self) -> int:
        """Tokens one sequence may hold, prompt and output together."""
        return self.info.context_length

    @property
    def vocab_size(self) -> int:
        """The width of the model's logits."""
        return self.info.vocab_size

    def check_context(self, prompt_ids: list[int], max_tokens: int, explicit: bool) -> int:
        """The max_tokens to use; INVALID_INPUT when the request cannot fit (see :func:`fit_context`)."""
        return fit_context(self.context_length, prompt_ids, max_tokens, explicit)


class TokenRate:
    """Tokens per second over a sliding window, from the running total sampled about once a second."""

    def __init__(self, window_seconds: float = 60.0) -> None:
        self.window = window_seconds
        self._samples: deque[tuple[float, int]] = deque()

    def note(self, total: int, now: float | None = None) -> None:
        """Records the running total (at most one sample a second is kept)."""
        now = time.monotonic() if now is None else now
        if not self._samples or now - self._samples[-1][0] >= 1.0:
            self._samples.append((now, total))
        while self._samples and now - self._samples[0][0] > self.window:
            self._samples.popleft()

    def per_second(self, total: int, now: float | None = None) -> float:
        """The rate from the oldest sample in the window to ``total`` now (0 with no history)."""
        now = time.monotonic() if now is None else now
        while self._samples and now - self._samples[0][0] > self.window:
            self._samples.popleft()
        if not self._samples or now <= self._samples[0][0]:
            return 0.0
        first_time, first_total = self._samples[0]
        return (total - first_total) / (now - first_time)
