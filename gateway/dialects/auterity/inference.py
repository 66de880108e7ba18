"""Document 003: ``POST /api/ai/inference``, ``/api/ai/inference/stream``, ``/api/ai/inference/batch``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictFloat, StrictInt

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.auterity.errors import render
from gateway.request_id import request_id_of
from gateway.textgen import (
    MAX_BATCH_ITEMS,
    Completion,
    GenerationStream,
    Seed,
    generate,
    generate_each,
    generate_request,
    sse_event,
    stream_reply,
    streaming_post,
)
from services.common.errors import MeshError

router = dialect_router("auterity", "auterity")


class Parameters(BaseModel):
    """Sampling parameters of 003's requests."""

    max_tokens: StrictInt | None = Field(None, description="Tokens to generate at most.")
    temperature: StrictFloat | None = Field(None, description="0 to 2; 0 is greedy.")
    top_p: StrictFloat | None = Field(None, description="Nucleus sampling mass.")
    top_k: StrictInt | None = Field(None, description="Top-k cut-off.")
    stop: str | list[str] | None = Field(None, description="Stop sequences.")
    frequency_penalty: StrictFloat | None = Field(None, description="-2 to 2.")
    presence_penalty: StrictFloat | None = Field(None, description="-2 to 2.")
    seed: Seed = Field(None, description="Same seed, same output.")

    def request(self, model: str, prompt: str = "", messages: list[tuple[str, str]] | None = None) -> Any:
        """The canonical generation request for ``model`` with these parameters."""
        return generate_request(
            model=model,
            prompt=prompt,
            messages=messages,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            stop=self.stop,
            frequency_penalty=self.frequency_penalty,
            presence_penalty=self.presence_penalty,
            seed=self.seed,
        )


class InferenceRequest(BaseModel):
    """Body of ``POST /api/ai/inference`` and its stream."""

    model_id: str = Field("default", description="Model id; 'default' picks the bundled model.")
    prompt: str = Field(..., description="Input text.")
    parameters: Parameters = Field(default_factory=Parameters)
    priority: str = Field("balanced", description="Accepted for compatibility; scheduling is first come.")


class BatchConfig(BaseModel):
    """How a batch runs."""

    batch_size: StrictInt = Field(16, ge=1, le=64, description="Requests generated at the same time.")
    priority: str = Field("normal", description="Accepted for compatibility.")


class BatchRequest(BaseModel):
    """Body of ``POST /api/ai/inference/batch``."""

    requests: list[InferenceRequest] = Field(
        ..., min_length=1, max_length=MAX_BATCH_ITEMS, description="The requests (1 to 100)."
    )
    config: BatchConfig = Field(default_factory=BatchConfig)


def _canonical(body: InferenceRequest) -> Any:
    return body.parameters.request(body.model_id, body.prompt)


def _body(result: Completion, request_id: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "response": result.text,
        "tokens_used": result.total_tokens,
        "processing_time": round(result.seconds, 4),
        # How likely the model found its own answer: the geometric mean of its tokens' probabilities.
        "confidence_score": result.confidence,
        "metadata": {
            "model": result.model,
            "model_version": "1",
            "provider": "meshserve",
            "device": result.device,
            "finish_reason": result.finish_reason,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "tokens_per_second": round(result.completion_tokens / result.seconds, 2)
            if result.seconds
            else 0.0,
        },
        "cached": result.cached,
    }


@router.post("/api/ai/inference", summary="Single inference")
async def inference(body: InferenceRequest, request: Request, clients: Clients) -> Any:
    """Generates the whole response."""
    result = await generate(clients, _canonical(body))
    return JSONResponse(_body(result, request_id_of(request)))


@streaming_post(router, "/api/ai/inference/stream", "auterity_inference_stream", "Streaming inference")
async def inference_stream(body: InferenceRequest, request: Request, clients: Clients) -> Any:
    """SSE ``{"token", "type": "token"}`` events, then ``{"type": "done"}``."""
    return await stream_reply(clients, _canonical(body), _events, _error_events, request_id_of(request))


async def _events(stream: GenerationStream) -> AsyncIterator[bytes]:
    async for chunk in stream:
        if chunk.text:
            yield sse_event({"token": chunk.text, "type": "token"})
    yield sse_event({"type": "done"})


def _error_events(error: MeshError) -> list[bytes]:
    return [sse_event({"type": "error", **render(error, "")}), sse_event({"type": "done"})]


@router.post("/api/ai/inference/batch", summary="Batch inference")
async def inference_batch(body: BatchRequest, request: Request, clients: Clients) -> Any:
    """Runs the requests ``config.batch_size`` at a time; each result or error in request order."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    rid = request_id_of(request)
    outcomes = await generate_each(
        clients, [_canonical(item) for item in body.requests], body.config.batch_size
    )
    results = [
        _batch_result(position, outcome, f"{rid}-{position}") for position, outcome in enumerate(outcomes)
    ]
    failed = sum(1 for r in results if not r["success"])
    return JSONResponse(
        {
            "request_id": rid,
            "results": list(results),
            "total": len(results),
            "succeeded": len(results) - failed,
            "failed": failed,
            "batch_size": body.config.batch_size,
            "processing_time": round(loop.time() - started, 4),
        }
    )


def _batch_result(position: int, outcome: Completion | MeshError, request_id: str) -> dict[str, Any]:
    if isinstance(outcome, MeshError):
        return {"index": position, "success": False, **render(outcome, request_id)}
    return {"index": position, "success": True, **_body(outcome, request_id)}
