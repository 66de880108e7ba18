"""Incremental detokenization with stop sequences: text leaves only once no stop can still match it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TextStream:
    """Turns a growing list of token ids into text deltas, cutting at the first stop sequence."""

    tokenizer: Any
    stop: tuple[str, ...] = ()
    emitted: int = 0
    text: str = ""
    stopped: bool = False
    _ids: list[int] = field(default_factory=list)

    def push(self, token_id: int) -> str:
        """Adds a token; returns the text that is now safe to send (may be empty)."""
        self._ids.append(token_id)
        self.text = self.tokenizer.decode(self._ids, skip_special_tokens=True)
        cut = self._first_stop(self.text)
        if cut is not None:
            self.text = self.text[:cut]
            self.stopped = True
            return self._take(len(self.text))
        return self._take(self._safe_end(self.text))

    def flush(self) -> str:
        """The text still held back, at the end of the sequence."""
        return self._take(len(self.text))

    def _take(self, end: int) -> str:
        if end <= self.emitted:
            return ""
        delta = self.text[self.emitted : end]
        self.emitted = end
        return delta

    def _first_stop(self, text: str) -> int | None:
        # Only the unsent tail and the longest stop before it can hold a new match.
        start = max(0, self.emitted - max((len(s) for s in self.stop), default=0))
        found = [i for i in (text.find(s, start) for s in self.stop) if i >= 0]
        return min(found) if found else None

    def _safe_end(self, text: str) -> int:
        end = len(text)
        # An incomplete UTF-8 sequence decodes to U+FFFD until its last byte arrives.
        while end > self.emitted and text[end - 1] == "\ufffd":
            end -= 1
        hold = 0
        for stop in self.stop:
            # The longest proper prefix of a stop that the text ends with might still grow into it.
            for size in range(min(len(stop) - 1, end), 0, -1):
                if text.endswith(stop[:size], 0, end):
                    hold = max(hold, size)
                    break
        end -= hold
        return max(end, self.emitted)
