"""OpenAI ``POST /v1/completions`` (document 002 ``client.completions.create``), streaming or not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from gateway.deps import Clients
from gateway.dialects.openai.errors import render
from gateway.dialects.openai.shapes import StreamOptions, legacy_logprobs, usage
from gateway.request_id import request_id_of
from gateway.textgen import (
    FINISH_NAMES,
    SSE_RESPONSES,
    collect,
    generate_request,
    open_stream,
    sse_event,
    sse_response,
)
from services.common.errors import InvalidInput, MeshError

router = APIRouter(tags=["openai"])


class CompletionRequest(BaseModel):
    """Body of ``POST /v1/completions``."""

    model_config = ConfigDict(extra="allow")

    model: str = Field("default", description="Model id; 'default' picks the bundled model.")
    prompt: str | list[str] = Field(..., description="The prompt (a list must hold exactly one).")
    max_tokens: int | None = Field(None, description="Tokens to generate at most.")
    temperature: float | None = Field(None, description="0 to 2; 0 is greedy.")
    top_p: float | None = Field(None, description="Nucleus sampling mass, (0, 1].")
    top_k: int | None = Field(None, description="Top-k cut-off; 0 disables it.")
    frequency_penalty: float | None = Field(None, description="-2 to 2.")
    presence_penalty: float | None = Field(None, description="-2 to 2.")
    stop: str | list[str] | None = Field(None, description="Up to 4 stop sequences.")
    seed: int | None = Field(None, description="Same seed, same output.")
    user: str | None = Field(
        None,
        max_length=256,
        description="The end user it is for: keeps them on one arm of an A/B experiment.",
    )
    logit_bias: dict[str, float] | None = Field(
        None, description="Token id (as a string) → bias from -100 to 100 added to its logit."
    )
    logprobs: int | None = Field(
        None, description="Return each token's log-probability with this many alternatives (0 to 20)."
    )
    n: int = Field(1, description="Choices to generate, 1 to 8, in the same continuous batch.")
    stream: bool = Field(False, description="Stream SSE chunks ending with data: [DONE].")
    stream_options: StreamOptions | None = None


def in_band_error(error: MeshError) -> list[bytes]:
    """An error after the stream started, as OpenAI sends it, then the terminator."""
    return [sse_event(render(error, "")), sse_event("[DONE]")]


def single_prompt(prompt: str | list[str]) -> str:
    """The one prompt of a request (a list must hold exactly one)."""
    if isinstance(prompt, str):
        return prompt
    if len(prompt) != 1:
        raise InvalidInput(
            "prompt as a list must hold exactly one string",
            details={"field": "prompt", "provided": len(prompt), "max_items": 1},
        )
    return prompt[0]


@router.post(
    "/v1/completions",
    operation_id="openai_create_completion",
    summary="Text completion",
    responses=SSE_RESPONSES,
)
async def create_completion(body: CompletionRequest, request: Request, clients: Clients) -> Any:
    """Completes a prompt; ``stream: true`` answers with SSE chunks."""
    canonical = generate_request(
        model=body.model,
        prompt=single_prompt(body.prompt),
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        top_k=body.top_k,
        stop=body.stop,
        frequency_penalty=body.frequency_penalty,
        presence_penalty=body.presence_penalty,
        logit_bias=body.logit_bias,
        seed=body.seed,
        user=body.user,
        n=body.n,
        logprobs=body.logprobs is not None,
        top_logprobs=body.logprobs,
    )
    stream = await open_stream(clients, canonical)
    completion_id = f"cmpl-{stream.first.request_id or uuid.uuid4().hex}"  # as metered
    with_logprobs = body.logprobs is not None
    if not body.stream:
        result = await collect(stream)
        return JSONResponse(
            {
                "id": completion_id,
                "object": "text_completion",
                "created": result.created,
                "model": result.model,
                "choices": [
                    {
                        "text": c.text,
                        "index": c.index,
                        "logprobs": legacy_logprobs(c.logprobs) if with_logprobs else None,
                        "finish_reason": c.finish_reason,
                    }
                    for c in result.choices
                ],
                "usage": usage(result.prompt_tokens, result.completion_tokens, result.cached_tokens),
            }
        )
    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    async def events() -> AsyncIterator[bytes]:
        offsets: dict[int, int] = {}
        prompt_tokens = completion_tokens = cached_tokens = 0
        created, model = stream.first.created, stream.first.model_name
        async for chunk in stream:
            finish = FINISH_NAMES.get(chunk.finish_reason)
            if chunk.text or finish:
                offset = offsets.get(chunk.choice, 0)
                offsets[chunk.choice] = offset + len(chunk.text)
                yield sse_event(
                    {
                        "id": completion_id,
                        "object": "text_completion",
                        "created": chunk.created,
                        "model": chunk.model_name,
                        "choices": [
                            {
                                "text": chunk.text,
                                "index": chunk.choice,
                                "logprobs": legacy_logprobs(list(chunk.logprobs), offset)
                                if with_logprobs
                                else None,
                                "finish_reason": finish,
                            }
                        ],
                    }
                )
            if finish:
                prompt_tokens, cached_tokens = chunk.usage.prompt_tokens, chunk.usage.cached_tokens
                completion_tokens += chunk.usage.completion_tokens
        if include_usage:
            yield sse_event(
                {
                    "id": completion_id,
                    "object": "text_completion",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": usage(prompt_tokens, completion_tokens, cached_tokens),
                }
            )
        yield sse_event("[DONE]")

    response: StreamingResponse = sse_response(stream, events(), in_band_error, request_id_of(request))
    return response
