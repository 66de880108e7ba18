"""Checks of a generation request against the model that will run it (context, vocabulary, chat
roles), and the error event a failed request ends with. No transport imports."""

from __future__ import annotations

from typing import Any

from services.common.errors import InvalidInput, MeshError
from services.inference.llm.sampling import SamplingParams

ROLES = ("system", "user", "assistant", "tool")


def fit_context(context: int, prompt_ids: list[int], max_tokens: int, explicit: bool) -> int:
    """The max_tokens to use for a prompt in a context of ``context`` tokens: an unasked-for
    max_tokens shrinks to the room left; INVALID_INPUT (document 004 §8.4 details) when it cannot fit."""
    if len(prompt_ids) >= context:
        raise InvalidInput(
            f"prompt is {len(prompt_ids)} tokens; the model's context holds {context}",
            details={
                "field": "prompt",
                "max_length": context,
                "provided_length": len(prompt_ids),
                "unit": "tokens",
            },
            suggestion="shorten the prompt",
        )
    room = context - len(prompt_ids)
    if max_tokens > room:
        if not explicit:
            return room
        raise InvalidInput(
            f"prompt ({len(prompt_ids)} tokens) plus max_tokens ({max_tokens}) exceeds the context of {context}",
            details={
                "field": "max_tokens",
                "max_length": context,
                "provided_length": len(prompt_ids) + max_tokens,
                "prompt_tokens": len(prompt_ids),
                "max_tokens_allowed": room,
            },
            suggestion=f"ask for at most {room} tokens",
        )
    return max_tokens


def check_token_ids(params: SamplingParams, vocab_size: int) -> None:
    """INVALID_INPUT when a logit_bias names a token the model does not have."""
    unknown = [token for token, _ in params.logit_bias if token >= vocab_size]
    if unknown:
        raise InvalidInput(
            f"logit_bias names token {unknown[0]}, but the model's token ids run from 0 to {vocab_size - 1}",
            details={"field": "logit_bias", "provided": unknown[0], "max": vocab_size - 1},
        )


def checked_prompt_ids(ids: Any, vocab_size: int, field: str = "prompt") -> list[int]:
    """A prompt (or an input, ``field``) given as token ids, each checked to be one of the model's
    (INVALID_INPUT naming ``field`` otherwise)."""
    if not isinstance(ids, list) or not ids:
        raise InvalidInput(f"the {field} holds no tokens", details={"field": field})
    for position, token in enumerate(ids):
        if isinstance(token, bool) or not isinstance(token, int) or not 0 <= token < vocab_size:
            raise InvalidInput(
                f"{field}[{position}] is {token!r}, but the model's token ids run from 0 to {vocab_size - 1}",
                details={"field": field, "provided": token, "min": 0, "max": vocab_size - 1},
            )
    return list(ids)


def check_roles(messages: list[dict[str, str]]) -> None:
    """INVALID_INPUT naming the first message whose role is not one of :data:`ROLES`."""
    for position, message in enumerate(messages):
        if message.get("role") not in ROLES:
            raise InvalidInput(
                f"messages[{position}].role must be one of {', '.join(ROLES)}",
                details={"field": f"messages[{position}].role", "provided": message.get("role")},
            )


def error_event(error: Exception) -> dict[str, Any]:
    """A failure as the event the receiver turns back into a canonical error."""
    if isinstance(error, MeshError):
        return {"error": {"code": error.code, "message": error.message, "details": error.details}}
    return {"error": {"code": "INFERENCE_FAILED", "message": f"generation failed: {error}", "details": {}}}
