"""Structured output: a grammar masks the tokens a sequence may take next, on any engine.

``response_format`` (``json_object``, or ``json_schema`` with a schema) is compiled by llguidance,
the constrained-decoding library llama.cpp and vLLM also use. At each step the matcher computes
the set of tokens that keep the output a valid prefix of the grammar; every other token's logit
becomes -inf before the engine's sampler runs, so the output validates by construction (no
retrying). End-of-sequence is allowed only where the document is complete.

JSON is generated compactly (``", "`` and ``": "`` separators, no free whitespace): a small model
given flexible whitespace can pad a document with newlines until max_tokens runs out.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from services.common.errors import InvalidInput

if TYPE_CHECKING:
    from llguidance._lib import JsonCompileOptions

#: How JSON is laid out (see the module docstring).
JSON_OPTIONS: JsonCompileOptions = {
    "whitespace_flexible": False,
    "item_separator": ", ",
    "key_separator": ": ",
}


class Grammar:
    """One sequence's constraint: the tokens it may take next, and the tokens it took."""

    def __init__(self, matcher: Any, vocab_size: int) -> None:
        self._matcher = matcher
        self._vocab_size = vocab_size
        self._bits = np.zeros((vocab_size + 31) // 32, dtype=np.int32)

    def mask(self, logits: np.ndarray) -> None:
        """Sets the logit of every token the grammar does not allow next to -inf, in place."""
        self._matcher.unsafe_compute_mask_ptr(self._bits.ctypes.data, self._bits.nbytes)
        allowed = np.unpackbits(self._bits.view(np.uint8), bitorder="little")[: len(logits)]
        logits[: len(allowed)][allowed == 0] = -np.inf
        logits[len(allowed) :] = -np.inf

    def accept(self, token: int) -> None:
        """Advances past a sampled token (one the mask allowed)."""
        if not self._matcher.consume_token(token):
            raise RuntimeError(f"the grammar refused token {token}: {self._matcher.get_error()}")


class GrammarCompiler:
    """Compiles response formats against one model's vocabulary (built once, on first use)."""

    def __init__(self, tokenizer: Callable[[], Any], vocab_size: int) -> None:
        self._make_tokenizer = tokenizer
        self._tokenizer: Any = None
        self._vocab_size = vocab_size
        self._lock = threading.Lock()

    def compile(self, response_format: dict[str, Any]) -> Grammar:
        """A fresh constraint for one sequence; INVALID_INPUT when the schema cannot be compiled."""
        from llguidance import LLMatcher

        schema = response_format.get("schema") if response_format["type"] == "json_schema" else None
        try:
            grammar = LLMatcher.grammar_from_json_schema(
                json.dumps(schema if schema is not None else {"type": "object"}), defaults=JSON_OPTIONS
            )
        except ValueError as error:
            raise _invalid(str(error)) from None
        matcher = LLMatcher(self.tokenizer(), grammar, log_level=0)
        if matcher.is_error():
            raise _invalid(matcher.get_error())
        return Grammar(matcher, self._vocab_size)

    def tokenizer(self) -> Any:
        """The llguidance tokenizer of the model (building it reads the whole vocabulary once)."""
        with self._lock:
            if self._tokenizer is None:
                try:
                    self._tokenizer = self._make_tokenizer()
                except InvalidInput:
                    raise
                except Exception as error:  # e.g. a slow (non-Rust) Hugging Face tokenizer
                    raise InvalidInput(
                        f"this model's tokenizer cannot drive structured output: {error}",
                        details={"field": "response_format"},
                    ) from None
            return self._tokenizer


def _invalid(reason: str) -> InvalidInput:
    return InvalidInput(
        f"response_format's JSON Schema cannot constrain decoding: {reason}",
        details={"field": "response_format.json_schema.schema"},
        suggestion="use the JSON Schema keywords for types, properties, required, enum, items and lengths",
    )
