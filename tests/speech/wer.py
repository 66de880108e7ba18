"""Word error rate: word-level Levenshtein distance over the reference length, after normalising."""

from __future__ import annotations

import re


def words(text: str) -> list[str]:
    """Lower-case words without punctuation (hyphens split words: "text-to-speech" is three)."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Substitutions + insertions + deletions turning ``hypothesis`` into ``reference``."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, start=1):
        current = [i]
        for j, hyp in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def wer(references: list[str], hypotheses: list[str]) -> float:
    """Overall WER of paired texts: total edits over total reference words."""
    edits = sum(edit_distance(words(r), words(h)) for r, h in zip(references, hypotheses, strict=True))
    total = sum(len(words(r)) for r in references)
    return edits / total


def heard_back(reference: str, hypothesis: str) -> bool:
    """Whether a fresh synthesis of ``reference`` was transcribed back as it, give or take a word.

    Piper draws every synthesis at random and Whisper tiny mishears one in many lossy encodings
    by a word ("quit" for "quick"); one edit is allowed in a sentence. The issue's own bar, WER
    of at most 10% over ten sentences, is checked by ``test_roundtrip.py``.
    """
    return edit_distance(words(reference), words(hypothesis)) <= 1
