"""``prompt_guard``: normalises prompts, bounds their length and refuses blocked content.

Runs before the model: whitespace and control characters are cleaned (so padding cannot be used to
smuggle length past limits, and the model sees tidy input), an over-long conversation is refused or
trimmed from its oldest turns, and a prompt matching a blocked pattern (say, a known
prompt-injection phrase) is refused with INVALID_INPUT naming the pattern.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.common.errors import InvalidInput
from services.inference.plugins.base import Category, Message, Plugin, TextRequest

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class GuardSettings(BaseModel):
    """What the guard enforces."""

    model_config = ConfigDict(extra="forbid")

    normalize: bool = Field(
        True,
        description="NFKC-normalise text, drop control characters, collapse runs of spaces and blank"
        " lines, strip each message's ends.",
    )
    max_prompt_chars: int | None = Field(
        None, ge=1, description="Longest prompt (all messages together) after normalising."
    )
    on_overflow: Literal["reject", "truncate"] = Field(
        "reject",
        description="Over max_prompt_chars: refuse the request, or drop the oldest non-system turns"
        " (then cut the start of the one left) until it fits.",
    )
    blocked_patterns: list[str] = Field(
        default_factory=list,
        description="Regular expressions (case-insensitive) that refuse a request whose text matches.",
    )

    @field_validator("blocked_patterns")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for position, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(
                    f"blocked_patterns[{position}] is not a valid regular expression: {error}"
                ) from None
        return patterns


def normalize_text(text: str) -> str:
    """NFKC, no control characters, single spaces, at most one blank line, no outer whitespace."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _length(messages: list[Message]) -> int:
    return sum(len(m.content) for m in messages)


def truncate_messages(messages: list[Message], limit: int) -> list[Message]:
    """Oldest non-system turns dropped, then the oldest remaining cut from its start, to fit."""
    kept = list(messages)
    while _length(kept) > limit:
        droppable = [i for i, m in enumerate(kept) if m.role != "system"]
        if len(droppable) > 1:
            del kept[droppable[0]]
            continue
        excess = _length(kept) - limit
        order = sorted(range(len(kept)), key=lambda i: kept[i].role == "system")  # system text last
        for i in order:
            message = kept[i]
            cut = min(excess, len(message.content))
            if cut:
                kept[i] = Message(message.role, message.content[cut:])
                excess -= cut
            if not excess:
                break
    return kept


class PromptGuard(Plugin[GuardSettings]):
    """Preprocessing: cleans prompts, bounds their length, refuses blocked content."""

    id = "prompt_guard"
    name = "Prompt Guard"
    version = "1.0.0"
    category = Category.PREPROCESSING
    author = "meshserve"
    description = (
        "Normalises prompts (Unicode, control characters, whitespace), enforces a maximum prompt"
        " length (refuse or trim the oldest turns) and refuses prompts matching blocked patterns."
    )
    Settings = GuardSettings

    def __init__(self, settings: GuardSettings) -> None:
        super().__init__(settings)
        self.blocked = [re.compile(p, re.IGNORECASE) for p in settings.blocked_patterns]

    def preprocess(self, request: TextRequest) -> TextRequest:
        """The cleaned request; InvalidInput when it is blocked or too long to accept."""
        g = self.settings
        chat = request.is_chat
        messages = list(request.messages) if chat else [Message("user", request.prompt)]
        if g.normalize:
            messages = [Message(m.role, normalize_text(m.content)) for m in messages]
        for message in messages:
            for position, pattern in enumerate(self.blocked):
                if pattern.search(message.content):
                    raise InvalidInput(
                        "the prompt matches a blocked pattern",
                        details={
                            "field": "messages" if chat else "prompt",
                            "plugin": self.id,
                            "pattern": f"blocked_patterns[{position}]",
                        },
                        suggestion="rephrase the request",
                    )
        length = _length(messages)
        if g.max_prompt_chars is not None and length > g.max_prompt_chars:
            if g.on_overflow == "reject":
                raise InvalidInput(
                    f"input text is {length} characters; at most {g.max_prompt_chars} are accepted",
                    details={
                        "field": "messages" if chat else "prompt",
                        "max_length": g.max_prompt_chars,
                        "provided_length": length,
                        "plugin": self.id,
                    },
                    suggestion="shorten the input",
                )
            messages = truncate_messages(messages, g.max_prompt_chars)
        if chat:
            return request.with_(messages=tuple(messages))
        return request.with_(prompt=messages[0].content)
