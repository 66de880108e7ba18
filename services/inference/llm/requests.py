"""Validation of a generation request in canonical terms, before any worker sees it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from services.common.errors import InvalidInput
from services.inference.llm.sampling import SamplingParams
from services.inference.llm.scheduler import ROLES


@dataclass(frozen=True)
class GenerationJob:
    """A validated generation request."""

    model: str
    prompt: str
    messages: list[dict[str, str]]
    params: SamplingParams
    max_tokens_explicit: bool
    request_id: str = field(default_factory=lambda: f"gen-{uuid.uuid4().hex[:16]}")

    def body(self) -> dict[str, Any]:
        """The worker protocol request (services.inference.llm.protocol)."""
        return {
            "op": "generate",
            "id": self.request_id,
            "prompt": self.prompt,
            "messages": self.messages,
            "sampling": self.params.to_dict(),
            "max_tokens_explicit": self.max_tokens_explicit,
        }


def build_job(
    *,
    model: str,
    prompt: str,
    messages: list[tuple[str, str]],
    sampling: dict[str, Any],
    default_max_tokens: int,
    max_prompt_chars: int,
    request_id: str = "",
) -> GenerationJob:
    """Checks every canonical range; raises InvalidInput naming the field at fault."""
    if not messages and not prompt:
        raise InvalidInput(
            "the request has neither messages nor a prompt",
            details={"field": "messages"},
            suggestion="send at least one message (or a non-empty prompt)",
        )
    chat = []
    for position, (role, content) in enumerate(messages):
        if role not in ROLES:
            raise InvalidInput(
                f"messages[{position}].role {role!r} is not one of {', '.join(ROLES)}",
                details={
                    "field": f"messages[{position}].role",
                    "provided": role,
                    "allowed": list(ROLES),
                },
            )
        chat.append({"role": role, "content": content})
    length = sum(len(c["content"]) for c in chat) if chat else len(prompt)
    if length > max_prompt_chars:
        raise InvalidInput(
            f"input text is {length} characters; at most {max_prompt_chars} are accepted",
            details={
                "field": "messages" if chat else "prompt",
                "max_length": max_prompt_chars,
                "provided_length": length,
            },
            suggestion="shorten the input",
        )
    requested = sampling.get("max_tokens")
    explicit = requested is not None
    params = SamplingParams(
        max_tokens=int(requested) if explicit else default_max_tokens,
        temperature=_or(sampling.get("temperature"), 1.0),
        top_p=_or(sampling.get("top_p"), 1.0),
        top_k=int(sampling.get("top_k") or 0),
        stop=tuple(sampling.get("stop") or ()),
        frequency_penalty=float(sampling.get("frequency_penalty") or 0.0),
        presence_penalty=float(sampling.get("presence_penalty") or 0.0),
        logit_bias=tuple(sorted((int(t), float(b)) for t, b in (sampling.get("logit_bias") or {}).items())),
        seed=sampling.get("seed"),
    )
    params.validate()
    return GenerationJob(
        model=model,
        prompt=prompt,
        messages=chat,
        params=params,
        max_tokens_explicit=explicit,
        **({"request_id": request_id} if request_id else {}),
    )


def _or(value: float | None, default: float) -> float:
    return default if value is None else float(value)
