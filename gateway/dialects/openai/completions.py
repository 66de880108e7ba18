"""OpenAI ``POST /v1/completions`` (document 002 ``client.completions.create``), streaming or not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import Field, StrictInt

from gateway.deps import Clients
from gateway.dialects.openai.errors import render
from gateway.dialects.openai.shapes import (
    GenerationBody,
    StreamUsage,
    legacy_logprobs,
    response_object,
    whole_response,
)
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


class CompletionRequest(GenerationBody):
    """Body of ``POST /v1/completions``."""

    prompt: str | list[str] = Field(..., description="The prompt (a list must hold exactly one).")
    logprobs: StrictInt | None = Field(
        None, description="Return each token's log-probability with this many alternatives (0 to 20)."
    )


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
        logprobs=body.logprobs is not None,
        top_logprobs=body.logprobs,
        **body.sampling(),
    )
    stream = await open_stream(clients, canonical)
    completion_id = f"cmpl-{stream.first.request_id or uuid.uuid4().hex}"  # as metered
    with_logprobs = body.logprobs is not None
    if not body.stream:
        result = await collect(stream)
        choices = [
            {
                "text": c.text,
                "index": c.index,
                "logprobs": legacy_logprobs(c.logprobs) if with_logprobs else None,
                "finish_reason": c.finish_reason,
            }
            for c in result.choices
        ]
        return JSONResponse(whole_response(completion_id, "text_completion", result, choices))

    async def events() -> AsyncIterator[bytes]:
        offsets: dict[int, int] = {}
        totals = StreamUsage()
        created, model = stream.first.created, stream.first.model_name
        async for chunk in stream:
            finish = FINISH_NAMES.get(chunk.finish_reason)
            if chunk.text or finish:
                offset = offsets.get(chunk.choice, 0)
                offsets[chunk.choice] = offset + len(chunk.text)
                choice = {
                    "text": chunk.text,
                    "index": chunk.choice,
                    "logprobs": legacy_logprobs(list(chunk.logprobs), offset) if with_logprobs else None,
                    "finish_reason": finish,
                }
                yield sse_event(
                    response_object(
                        completion_id, "text_completion", chunk.created, chunk.model_name, [choice]
                    )
                )
            if finish:
                totals.add(chunk.usage)
        if body.include_usage:
            yield sse_event(
                response_object(completion_id, "text_completion", created, model, [], usage=totals.body())
            )
        yield sse_event("[DONE]")

    response: StreamingResponse = sse_response(stream, events(), in_band_error, request_id_of(request))
    return response
