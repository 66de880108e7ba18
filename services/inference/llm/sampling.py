"""Sampling parameters and their validation (no transport imports, and no torch: the transformers
fallback applies them in :mod:`services.inference.llm.engines.torch_sampler`, llama.cpp and vLLM in
their own samplers).

Ranges follow document 002 and the OpenAI API: temperature 0 to 2 (0 is greedy), top_p in (0, 1],
top_k ≥ 0 (0 disables it), penalties -2 to 2, at most 4 stop sequences, logit biases -100 to 100
(added to the raw logits before everything else; whether a token id exists is the engine's check). Penalties use OpenAI's
definition: ``logit -= count * frequency_penalty + (count > 0) * presence_penalty``. ``top_logprobs``
0 to 20 (it needs ``logprobs``); ``response_format`` is ``{"type": "text" | "json_object"}`` or
``{"type": "json_schema", "schema": {...}}`` (whether the schema compiles is the grammar's check).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.common.errors import InvalidInput

MAX_STOP_SEQUENCES = 4
MAX_STOP_CHARS = 256
MAX_TOP_LOGPROBS = 20
RESPONSE_FORMATS = ("text", "json_object", "json_schema")


@dataclass(frozen=True)
class SamplingParams:
    """How one sequence picks its tokens."""

    max_tokens: int = 256
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    stop: tuple[str, ...] = ()
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    seed: int | None = None
    #: (token id, bias) pairs, sorted by token id.
    logit_bias: tuple[tuple[int, float], ...] = ()
    #: Report each token's log-probability, with ``top_logprobs`` alternatives.
    logprobs: bool = False
    top_logprobs: int = 0
    #: With ``logprobs``, also each prompt token's log-probability given those before it (OpenAI
    #: completions' ``echo`` with ``logprobs``), and the token that ended the text is listed too.
    prompt_logprobs: bool = False
    #: A constraint on the output (see the module docstring); None is free text.
    response_format: dict[str, Any] | None = None

    @property
    def constrained(self) -> bool:
        """Whether a grammar constrains the output."""
        return self.response_format is not None and self.response_format.get("type", "text") != "text"

    @property
    def greedy(self) -> bool:
        """Whether the arg-max token is taken."""
        return self.temperature == 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "stop": list(self.stop),
            "frequency_penalty": self.frequency_penalty,
            "presence_penalty": self.presence_penalty,
            "seed": self.seed,
            "logit_bias": {str(token): bias for token, bias in self.logit_bias},
            "logprobs": self.logprobs,
            "top_logprobs": self.top_logprobs,
            "prompt_logprobs": self.prompt_logprobs,
            "response_format": self.response_format,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SamplingParams:
        """Rebuilds validated parameters from :meth:`to_dict`."""
        params = cls(
            max_tokens=int(data["max_tokens"]),
            temperature=float(data["temperature"]),
            top_p=float(data["top_p"]),
            top_k=int(data["top_k"]),
            stop=tuple(data.get("stop") or ()),
            frequency_penalty=float(data["frequency_penalty"]),
            presence_penalty=float(data["presence_penalty"]),
            seed=None if data.get("seed") is None else int(data["seed"]),
            logit_bias=tuple(sorted((int(t), float(b)) for t, b in (data.get("logit_bias") or {}).items())),
            logprobs=bool(data.get("logprobs", False)),
            top_logprobs=int(data.get("top_logprobs") or 0),
            prompt_logprobs=bool(data.get("prompt_logprobs", False)),
            response_format=data.get("response_format"),
        )
        params.validate()
        return params

    def validate(self) -> None:
        """Raises InvalidInput naming the first parameter out of its range."""
        _check_range("max_tokens", self.max_tokens, 1, None)
        _check_range("temperature", self.temperature, 0.0, 2.0)
        if not 0.0 < self.top_p <= 1.0:
            raise InvalidInput(
                f"top_p must be in (0, 1], got {self.top_p}",
                details={"field": "top_p", "min": "0 (exclusive)", "max": 1, "provided": self.top_p},
            )
        _check_range("top_k", self.top_k, 0, None)
        _check_range("frequency_penalty", self.frequency_penalty, -2.0, 2.0)
        _check_range("presence_penalty", self.presence_penalty, -2.0, 2.0)
        if len(self.stop) > MAX_STOP_SEQUENCES:
            raise InvalidInput(
                f"at most {MAX_STOP_SEQUENCES} stop sequences are allowed, got {len(self.stop)}",
                details={"field": "stop", "max_items": MAX_STOP_SEQUENCES, "provided": len(self.stop)},
            )
        for token, bias in self.logit_bias:
            if token < 0:
                raise InvalidInput(
                    f"logit_bias token ids are not negative, got {token}",
                    details={"field": "logit_bias", "provided": token},
                )
            _check_range("logit_bias", bias, -100.0, 100.0)
        _check_range("top_logprobs", self.top_logprobs, 0, MAX_TOP_LOGPROBS)
        if self.top_logprobs and not self.logprobs:
            raise InvalidInput(
                "top_logprobs needs logprobs to be true",
                details={"field": "top_logprobs", "provided": self.top_logprobs},
                suggestion="set logprobs: true, or leave top_logprobs out",
            )
        if self.prompt_logprobs and not self.logprobs:
            raise InvalidInput("prompt log-probabilities need logprobs", details={"field": "logprobs"})
        _check_response_format(self.response_format)
        for item in self.stop:
            if not item or len(item) > MAX_STOP_CHARS:
                raise InvalidInput(
                    f"each stop sequence must have 1 to {MAX_STOP_CHARS} characters",
                    details={"field": "stop", "max_length": MAX_STOP_CHARS, "provided_length": len(item)},
                )


def _check_response_format(value: dict[str, Any] | None) -> None:
    if value is None:
        return
    kind = value.get("type", "text") if isinstance(value, dict) else None
    if kind not in RESPONSE_FORMATS:
        raise InvalidInput(
            f"response_format.type must be one of {', '.join(RESPONSE_FORMATS)}, got {kind!r}",
            details={"field": "response_format.type", "provided": kind, "allowed": list(RESPONSE_FORMATS)},
        )
    if kind == "json_schema" and not isinstance(value.get("schema"), dict):
        raise InvalidInput(
            "response_format json_schema needs a schema (a JSON object)",
            details={"field": "response_format.json_schema.schema"},
        )


def _check_range(name: str, value: float, low: float, high: float | None) -> None:
    # Written as "not inside" so that NaN, which compares false with everything, is out of range.
    if not (low <= value and (high is None or value <= high)):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        details: dict[str, Any] = {"field": name, "min": low, "provided": value}
        if high is not None:
            details["max"] = high
        raise InvalidInput(f"{name} must be {bounds}, got {value}", details=details)
