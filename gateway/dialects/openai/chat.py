"""OpenAI ``POST /v1/chat/completions`` (document 002 ``client.chat.completions.create``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from gateway.deps import Clients
from gateway.dialects.openai.completions import StreamOptions, in_band_error, single_choice, usage
from gateway.request_id import request_id_of
from gateway.textgen import FINISH_NAMES, collect, generate_request, open_stream, sse_event, sse_response
from services.common.errors import InvalidInput

router = APIRouter(tags=["openai"])


class ChatMessage(BaseModel):
    """One message; content may be a string or a list of text parts."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """Body of ``POST /v1/chat/completions``."""

    model_config = ConfigDict(extra="allow")

    model: str = Field("default", description="Model id; 'default' picks the bundled model.")
    messages: list[ChatMessage] = Field(..., description="The conversation so far.")
    max_tokens: int | None = Field(None, description="Tokens to generate at most.")
    max_completion_tokens: int | None = Field(None, description="Newer name of max_tokens.")
    temperature: float | None = Field(None, description="0 to 2; 0 is greedy.")
    top_p: float | None = Field(None, description="Nucleus sampling mass, (0, 1].")
    top_k: int | None = Field(None, description="Top-k cut-off; 0 disables it.")
    frequency_penalty: float | None = Field(None, description="-2 to 2.")
    presence_penalty: float | None = Field(None, description="-2 to 2.")
    stop: str | list[str] | None = Field(None, description="Up to 4 stop sequences.")
    seed: int | None = Field(None, description="Same seed, same output.")
    logit_bias: dict[str, float] | None = Field(
        None, description="Token id (as a string) → bias from -100 to 100 added to its logit."
    )
    n: int = Field(1, description="Choices to return; only 1 is supported.")
    stream: bool = Field(False, description="Stream SSE chunks ending with data: [DONE].")
    stream_options: StreamOptions | None = None


def text_of(position: int, message: ChatMessage) -> str:
    """A message's text: a string, or the text parts of a content list."""
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    parts = []
    for part in message.content:
        if part.get("type") != "text":
            raise InvalidInput(
                f"messages[{position}].content has a {part.get('type')!r} part; only text is supported",
                details={"field": f"messages[{position}].content"},
            )
        parts.append(str(part.get("text", "")))
    return "".join(parts)


@router.post("/v1/chat/completions", operation_id="openai_create_chat_completion", summary="Chat completion")
async def create_chat_completion(body: ChatRequest, request: Request, clients: Clients) -> Any:
    """Answers a conversation; ``stream: true`` answers with SSE chunks."""
    single_choice(body.n)
    canonical = generate_request(
        model=body.model,
        messages=[(m.role, text_of(i, m)) for i, m in enumerate(body.messages)],
        max_tokens=body.max_completion_tokens if body.max_completion_tokens is not None else body.max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        top_k=body.top_k,
        stop=body.stop,
        frequency_penalty=body.frequency_penalty,
        presence_penalty=body.presence_penalty,
        logit_bias=body.logit_bias,
        seed=body.seed,
    )
    stream = await open_stream(clients, canonical)
    chat_id = f"chatcmpl-{uuid.uuid4().hex}"
    if not body.stream:
        result = await collect(stream)
        return JSONResponse(
            {
                "id": chat_id,
                "object": "chat.completion",
                "created": result.created,
                "model": result.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": result.text},
                        "logprobs": None,
                        "finish_reason": result.finish_reason,
                    }
                ],
                "usage": usage(result.prompt_tokens, result.completion_tokens, result.cached_tokens),
            }
        )
    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    def chunk_of(created: int, model: str, delta: dict[str, Any], finish: str | None) -> bytes:
        return sse_event(
            {
                "id": chat_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
        )

    async def events() -> AsyncIterator[bytes]:
        first = stream.first
        yield chunk_of(first.created, first.model_name, {"role": "assistant", "content": ""}, None)
        async for chunk in stream:
            finish = FINISH_NAMES.get(chunk.finish_reason)
            if chunk.text:
                yield chunk_of(chunk.created, chunk.model_name, {"content": chunk.text}, None)
            if finish:
                yield chunk_of(chunk.created, chunk.model_name, {}, finish)
                if include_usage:
                    yield sse_event(
                        {
                            "id": chat_id,
                            "object": "chat.completion.chunk",
                            "created": chunk.created,
                            "model": chunk.model_name,
                            "choices": [],
                            "usage": usage(
                                chunk.usage.prompt_tokens,
                                chunk.usage.completion_tokens,
                                chunk.usage.cached_tokens,
                            ),
                        }
                    )
        yield sse_event("[DONE]")

    return sse_response(stream, events(), in_band_error, request_id_of(request))
