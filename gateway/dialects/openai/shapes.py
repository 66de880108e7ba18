"""OpenAI's JSON shapes shared by chat and legacy completions: usage, logprobs, response_format."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from meshserve.v1 import inference_pb2 as pb


class StreamOptions(BaseModel):
    """OpenAI stream options."""

    include_usage: bool = False


class JsonSchemaFormat(BaseModel):
    """The ``json_schema`` member of ``response_format``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str = "response"
    description: str | None = None
    json_schema: dict[str, Any] = Field(default_factory=dict, alias="schema")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    """``{"type": "text" | "json_object"}`` or ``{"type": "json_schema", "json_schema": {...}}``."""

    type: Literal["text", "json_object", "json_schema"] = "text"
    json_schema: JsonSchemaFormat | None = None


def response_format_of(value: ResponseFormat | None) -> pb.ResponseFormat | None:
    """The canonical constraint (always enforced by constrained decoding, whatever ``strict`` says)."""
    if value is None or value.type == "text":
        return None
    if value.type == "json_object":
        return pb.ResponseFormat(type="json_object")
    schema = value.json_schema.json_schema if value.json_schema is not None else {}
    return pb.ResponseFormat(type="json_schema", schema_json=json.dumps(schema))


def usage(prompt: int, completion: int, cached: int = 0) -> dict[str, Any]:
    """OpenAI usage object, with the prompt tokens a cache served in ``prompt_tokens_details``."""
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }


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
        "token_logprobs": [e.logprob for e in entries],
        "top_logprobs": [{t.token: t.logprob for t in e.top} for e in entries],
        "text_offset": offsets,
    }
