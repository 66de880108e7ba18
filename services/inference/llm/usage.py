"""What one generation cost, added up from its choices' last events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
