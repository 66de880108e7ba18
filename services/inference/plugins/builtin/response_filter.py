"""``response_filter``: masks words, phrases and patterns (PII such as e-mail addresses) in generated
text, streams included.

Streaming is where a filter usually leaks: a word arrives split over tokens ("Par", "is"), so
masking each piece alone misses it. This filter holds text back instead: it releases text only up
to a whitespace at least ``stream_window`` characters before the end of what it has seen, and never
cuts through a match (the cut moves back to the match's start). So a match that does not span
whitespace is always seen whole, and one that does is seen whole when it is at most
``stream_window`` characters long. The rest is released at the end of the generation.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.inference.plugins.base import Category, Plugin, TextStream

#: Named patterns for common personal data.
PRESETS: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "phone": r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}(?!\w)",
    "ipv4": r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.]\d)",
    "credit_card": r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)",
}


class FilterSettings(BaseModel):
    """What to mask and how."""

    model_config = ConfigDict(extra="forbid")

    words: list[str] = Field(
        default_factory=list,
        description="Words or phrases to mask, matched as whole words (whitespace inside a phrase"
        " matches any whitespace).",
    )
    patterns: list[str] = Field(
        default_factory=list, description="Regular expressions (Python syntax) whose matches are masked."
    )
    presets: list[Literal["email", "phone", "ipv4", "credit_card"]] = Field(
        default_factory=list, description="Built-in patterns for personal data."
    )
    mask: str = Field("***", max_length=64, description="Text that replaces each match.")
    case_sensitive: bool = Field(False, description="Match words and patterns case-sensitively.")
    stream_window: int = Field(
        32,
        ge=0,
        le=4096,
        description="Characters held back while streaming, so matches that span whitespace and are"
        " at most this long are still masked; 0 releases text at every whitespace.",
    )

    @field_validator("words")
    @classmethod
    def _words(cls, words: list[str]) -> list[str]:
        for position, word in enumerate(words):
            if not word.strip():
                raise ValueError(f"words[{position}] is empty")
        return [w.strip() for w in words]

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for position, pattern in enumerate(patterns):
            try:
                compiled = re.compile(pattern)
            except re.error as error:
                raise ValueError(f"patterns[{position}] is not a valid regular expression: {error}") from None
            if compiled.fullmatch(""):
                raise ValueError(f"patterns[{position}] matches the empty string")
        return patterns


def word_pattern(word: str) -> str:
    """A literal word or phrase as a whole-word pattern."""
    parts = [re.escape(p) for p in word.split()]
    return r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)"


def compile_filter(settings: FilterSettings) -> re.Pattern[str] | None:
    """One pattern matching everything the settings mask; None when they mask nothing."""
    alternatives = [word_pattern(w) for w in settings.words]
    alternatives += list(settings.patterns)
    alternatives += [PRESETS[name] for name in settings.presets]
    if not alternatives:
        return None
    flags = 0 if settings.case_sensitive else re.IGNORECASE
    return re.compile("|".join(f"(?:{a})" for a in alternatives), flags)


class FilterStream(TextStream):
    """Masks one generation's text, holding back what a later piece could still turn into a match."""

    def __init__(self, pattern: re.Pattern[str] | None, mask: str, window: int) -> None:
        self.pattern = pattern
        self.mask = mask
        self.window = window
        self.pending = ""

    def feed(self, text: str) -> str:
        """Masked text that no later piece can change."""
        if self.pattern is None:
            return text
        self.pending += text
        limit = len(self.pending) - self.window
        cut = 0
        for position in range(limit - 1, -1, -1):
            if self.pending[position].isspace():
                cut = position + 1
                break
        return self._release(cut)

    def finish(self) -> str:
        """Everything still held, masked."""
        if self.pattern is None:
            return ""
        return self._release(len(self.pending))

    def _release(self, cut: int) -> str:
        assert self.pattern is not None
        if cut <= 0:
            return ""
        matches = list(self.pattern.finditer(self.pending))
        for match in matches:
            if match.start() < cut < match.end():
                cut = match.start()  # keep the whole match for later
                break
        pieces: list[str] = []
        position = 0
        for match in matches:
            if match.end() > cut:
                break
            pieces += [self.pending[position : match.start()], self.mask]
            position = match.end()
        pieces.append(self.pending[position:cut])
        self.pending = self.pending[cut:]
        return "".join(pieces)


def mask_text(settings: FilterSettings, text: str) -> str:
    """A whole text masked (what a stream of it yields in total)."""
    stream = FilterStream(compile_filter(settings), settings.mask, settings.stream_window)
    return stream.feed(text) + stream.finish()


class ResponseFilter(Plugin[FilterSettings]):
    """Postprocessing: masks configured words, phrases and patterns in generated text."""

    id = "response_filter"
    name = "Response Filter"
    version = "1.0.0"
    category = Category.POSTPROCESSING
    author = "meshserve"
    description = (
        "Masks configured words, phrases, regular expressions and personal data (e-mail, phone,"
        " IPv4, card numbers) in generated text, streamed or not."
    )
    Settings = FilterSettings

    def __init__(self, settings: FilterSettings) -> None:
        super().__init__(settings)
        self.pattern = compile_filter(settings)

    def stream(self) -> TextStream:
        """A fresh masking stream."""
        s = self.settings
        return FilterStream(self.pattern, s.mask, s.stream_window)
