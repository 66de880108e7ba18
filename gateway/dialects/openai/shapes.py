"""OpenAI's JSON shapes shared by chat and legacy completions: the request fields they share, usage,
logprobs, response_format."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from gateway.textgen import Completion, Seed
from meshserve.v1 import inference_pb2 as pb
from services.common.errors import InvalidInput


class StreamOptions(BaseModel):
    """OpenAI stream options."""

    include_usage: StrictBool = False


class GenerationBody(BaseModel):
    """The fields that chat and legacy completions' bodies share: model, sampling and streaming."""

    model_config = ConfigDict(extra="allow")

    model: str = Field("default", description="Model id; 'default' picks the bundled model.")
    max_tokens: StrictInt | None = Field(None, description="Tokens to generate at most.")
    temperature: StrictFloat | None = Field(None, description="0 to 2; 0 is greedy.")
    top_p: StrictFloat | None = Field(None, description="Nucleus sampling mass, (0, 1].")
    top_k: StrictInt | None = Field(None, description="Top-k cut-off; 0 disables it.")
    frequency_penalty: StrictFloat | None = Field(None, description="-2 to 2.")
    presence_penalty: StrictFloat | None = Field(None, description="-2 to 2.")
    stop: str | list[str] | None = Field(None, description="Up to 4 stop sequences.")
    seed: Seed = Field(None, description="Same seed, same output.")
    user: str | None = Field(
        None,
        max_length=256,
        description="The end user it is for: keeps them on one arm of an A/B experiment.",
    )
    logit_bias: dict[str, StrictFloat] | None = Field(
        None, description="Token id (as a string) → bias from -100 to 100 added to its logit."
    )
    n: StrictInt = Field(1, ge=1, description="Choices to generate, 1 to 8, in the same continuous batch.")
    stream: StrictBool = Field(False, description="Stream SSE chunks ending with data: [DONE].")
    stream_options: StreamOptions | None = None

    def sampling(self) -> dict[str, Any]:
        """These fields as ``generate_request``'s sampling arguments (``max_tokens`` aside)."""
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "stop": self.stop,
            "frequency_penalty": self.frequency_penalty,
            "presence_penalty": self.presence_penalty,
            "logit_bias": self.logit_bias,
            "seed": self.seed,
            "user": self.user,
            "n": self.n,
        }

    @property
    def include_usage(self) -> bool:
        """Whether a stream ends with a chunk carrying the usage."""
        return bool(self.stream_options and self.stream_options.include_usage)


class JsonSchemaFormat(BaseModel):
    """The ``json_schema`` member of ``response_format``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str = "response"
    description: str | None = None
    json_schema: dict[str, Any] = Field(default_factory=dict, alias="schema")
    strict: StrictBool | None = None


class ResponseFormat(BaseModel):
    """``{"type": "text" | "json_object"}`` or ``{"type": "json_schema", "json_schema": {...}}``."""

    type: Literal["text", "json_object", "json_schema"] = "text"
    json_schema: JsonSchemaFormat | None = None


#: What OpenAI's ``prompt`` and ``input`` may hold: a string, strings, one list of token ids, or several.
TextsOrIds = str | list[str] | list[int] | list[list[int]]


def items_of(value: TextsOrIds) -> list[str | list[int]]:
    """The items such a value holds: each a string or a list of token ids (a flat list of ids is
    one item)."""
    if isinstance(value, str):
        return [value]
    ids = [item for item in value if isinstance(item, int)]
    if value and len(ids) == len(value):
        return [ids]
    return [item for item in value if isinstance(item, str | list)]


def tool_of(name: str, description: str | None, parameters: dict[str, Any] | None) -> pb.Tool:
    """A function tool as the canonical one (its JSON Schema as text)."""
    schema = json.dumps(parameters) if parameters is not None else ""
    return pb.Tool(name=name, description=description or "", parameters_json=schema)


def response_format_of(value: ResponseFormat | None) -> pb.ResponseFormat | None:
    """The canonical constraint (always enforced by constrained decoding, whatever ``strict`` says)."""
    if value is None or value.type == "text":
        return None
    if value.type == "json_object":
        return pb.ResponseFormat(type="json_object")
    if value.json_schema is None:  # OpenAI's answer too: nothing would constrain the output
        raise InvalidInput(
            "response_format.json_schema is required when response_format.type is json_schema",
            details={"field": "response_format.json_schema"},
        )
    return pb.ResponseFormat(type="json_schema", schema_json=json.dumps(value.json_schema.json_schema))


def usage(prompt: int, completion: int, cached: int = 0) -> dict[str, Any]:
    """OpenAI usage object, with the prompt tokens a cache served in ``prompt_tokens_details``."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }


def response_object(
    response_id: str, kind: str, created: int, model: str, choices: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """A completion or a stream's chunk: id, object type, creation time, model, choices, then ``extra``."""
    return {
        "id": response_id,
        "object": kind,
        "created": created,
        "model": model,
        "choices": choices,
        **extra,
    }


def whole_response(
    response_id: str, kind: str, result: Completion, choices: list[dict[str, Any]]
) -> dict[str, Any]:
    """A collected (not streamed) completion, with its usage."""
    totals = usage(result.prompt_tokens, result.completion_tokens, result.cached_tokens)
    return response_object(response_id, kind, result.created, result.model, choices, usage=totals)


class StreamUsage:
    """A stream's usage, from each choice's last chunk: the prompt counts once, completions add up."""

    def __init__(self) -> None:
        self.prompt_tokens = self.completion_tokens = self.cached_tokens = 0

    def add(self, last: pb.Usage) -> None:
        """Counts one finished choice."""
        self.prompt_tokens, self.cached_tokens = last.prompt_tokens, last.cached_tokens
        self.completion_tokens += last.completion_tokens

    def body(self) -> dict[str, Any]:
        """The total as OpenAI's usage object."""
        return usage(self.prompt_tokens, self.completion_tokens, self.cached_tokens)


def chat_logprobs(entries: Iterable[pb.TokenLogprob]) -> dict[str, Any]:
    """Chat's ``logprobs``: ``{"content": [{token, logprob, bytes, top_logprobs}]}``."""
    return {
        "content": [
            {
                "token": e.token,
                "logprob": e.logprob,
                "bytes": list(e.bytes),
                "top_logprobs": [
                    {"token": t.token, "logprob": t.logprob, "bytes": list(t.bytes)} for t in e.top
                ],
            }
            for e in entries
        ]
    }


def legacy_logprobs(entries: list[pb.TokenLogprob], offset: int = 0) -> dict[str, Any]:
    """Legacy completions' ``logprobs``: parallel lists, ``text_offset`` counting characters from
    ``offset`` (where the text of these tokens starts)."""
    offsets = []
    for entry in entries:
        offsets.append(offset)
        offset += len(entry.token)
    return {
        "tokens": [e.token for e in entries],
        "token_logprobs": [None if e.unscored else e.logprob for e in entries],
        "top_logprobs": [{t.token: t.logprob for t in e.top} for e in entries],
        "text_offset": offsets,
    }
