"""Embeddings from a language model: validation of the inputs and the shape of the vectors.

An engine returns, for each text on its own, the mean of the model's final hidden states over the
text's tokens (llama.cpp's mean pooling); this module checks what may be embedded and gives the
vectors unit length, keeping the first ``dimensions`` when asked (normalized again, as OpenAI's
``dimensions`` does). Each text is embedded alone, so a vector depends on its text only, not on the
other inputs or their order. No transport imports.
"""

from __future__ import annotations

import numpy as np

from services.common.errors import InvalidInput

#: Texts one request may embed.
MAX_INPUTS = 256


def check_inputs(inputs: list[str] | list[list[int]], max_chars: int) -> None:
    """INVALID_INPUT naming the first input that cannot be embedded (texts, or token ids: a token
    stands for a character or more, so the same bound holds)."""
    if not 1 <= len(inputs) <= MAX_INPUTS:
        raise InvalidInput(
            f"input must hold 1 to {MAX_INPUTS} inputs, got {len(inputs)}",
            details={"field": "input", "min_items": 1, "max_items": MAX_INPUTS, "provided": len(inputs)},
        )
    for position, text in enumerate(inputs):
        if not text:
            raise InvalidInput(f"input[{position}] is empty", details={"field": f"input[{position}]"})
        if len(text) > max_chars:
            unit = "characters" if isinstance(text, str) else "tokens"
            raise InvalidInput(
                f"input[{position}] is {len(text)} {unit}; at most {max_chars} are accepted",
                details={
                    "field": f"input[{position}]",
                    "max_length": max_chars,
                    "provided_length": len(text),
                },
            )


def shaped(vectors: list[list[float]], dimensions: int) -> list[list[float]]:
    """Unit-length vectors, cut to ``dimensions`` first when it is set (0 keeps them whole)."""
    if not vectors:
        return []
    width = len(vectors[0])
    if dimensions < 0 or dimensions > width:
        raise InvalidInput(
            f"dimensions must be between 1 and the model's {width}, got {dimensions}",
            details={"field": "dimensions", "min": 1, "max": width, "provided": dimensions},
        )
    matrix = np.asarray(vectors, dtype=np.float64)[:, : dimensions or width]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32).tolist()
