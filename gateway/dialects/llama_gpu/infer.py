"""Document 004 §3: ``POST /api/v1/infer``, ``/api/v1/batch_infer``, ``/api/v1/stream_infer``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool, StrictFloat, StrictInt

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.envelope import iso_now
from gateway.dialects.llama_gpu.errors import render
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

router = dialect_router("llama_gpu", "llama-gpu")

#: Concurrent generations of one batch_infer call (they share the engine's batch on the worker).
BATCH_CONCURRENCY = 16

#: Longest input text, in characters (004 §8.1: longer is INVALID_INPUT naming max/provided length).
MAX_TEXT_CHARS = 4096


class InferRequest(BaseModel):
    """Body of ``POST /api/v1/infer`` and ``/api/v1/stream_infer`` (004 §3.1 parameters)."""

    text: str = Field(..., max_length=MAX_TEXT_CHARS, description="Input text for inference.")
    model: str = Field("default", description="Model identifier.")
    max_tokens: StrictInt = Field(100, description="Maximum tokens to generate.")
    temperature: StrictFloat = Field(1.0, description="Sampling temperature.")
    top_p: StrictFloat = Field(1.0, description="Nucleus sampling parameter.")
    top_k: StrictInt | None = Field(None, description="Top-k cut-off.")
    stop: list[str] | None = Field(None, description="Stop sequences.")
    seed: Seed = Field(None, description="Seed for reproducible sampling.")
    stream: StrictBool = Field(False, description="Enable streaming response (SSE, as stream_infer).")


class BatchItem(BaseModel):
    """One input of ``batch_infer``."""

    id: str = Field("", description="Caller's id, echoed in the result.")
    text: str = Field(..., max_length=MAX_TEXT_CHARS, description="Input text.")
    max_tokens: StrictInt | None = Field(None, description="Maximum tokens for this input.")
    temperature: StrictFloat | None = Field(None, description="Overrides the batch temperature.")


class BatchRequest(BaseModel):
    """Body of ``POST /api/v1/batch_infer`` (004 §3.2)."""

    inputs: list[BatchItem] = Field(
        ..., min_length=1, max_length=MAX_BATCH_ITEMS, description="Inputs to process (1 to 100)."
    )
    model: str = Field("default", description="Model identifier.")
    max_tokens: StrictInt = Field(100, description="Default maximum tokens.")
    temperature: StrictFloat = Field(1.0, description="Sampling temperature.")
    top_p: StrictFloat = Field(1.0, description="Nucleus sampling parameter.")


def _canonical(body: InferRequest) -> Any:
    return generate_request(
        model=body.model,
        prompt=body.text,
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        top_k=body.top_k,
        stop=body.stop,
        seed=body.seed,
    )


def _result(result: Completion) -> dict[str, Any]:
    return {
        "generated_text": result.text,
        "tokens_generated": result.completion_tokens,
        "inference_time": round(result.seconds, 4),
        "model_used": result.model,
        "backend": result.device,
    }


@streaming_post(router, "/api/v1/infer", "llama_gpu_infer", "Single inference (stream: true streams)")
async def infer(body: InferRequest, request: Request, clients: Clients) -> Any:
    """Generates text for one input (``stream: true`` answers as stream_infer does)."""
    if body.stream:
        return await stream_infer(body, request, clients)
    started = asyncio.get_running_loop().time()
    result = await generate(clients, _canonical(body))
    return JSONResponse(
        {
            "success": True,
            "result": _result(result),
            "metadata": {
                "request_id": request_id_of(request),
                "timestamp": iso_now(),
                "processing_time": round(asyncio.get_running_loop().time() - started, 4),
            },
        }
    )


@router.post("/api/v1/batch_infer", summary="Batch inference")
async def batch_infer(body: BatchRequest, request: Request, clients: Clients) -> Any:
    """Runs every input concurrently (continuous batching on the worker); per-input errors in place."""
    started = asyncio.get_running_loop().time()
    canonical = [
        generate_request(
            model=body.model,
            prompt=item.text,
            max_tokens=item.max_tokens if item.max_tokens is not None else body.max_tokens,
            temperature=item.temperature if item.temperature is not None else body.temperature,
            top_p=body.top_p,
        )
        for item in body.inputs
    ]
    outcomes = await generate_each(clients, canonical, BATCH_CONCURRENCY)
    results = [
        _batch_result(item.id or str(position), outcome)
        for position, (item, outcome) in enumerate(zip(body.inputs, outcomes, strict=True))
    ]
    backend = next((o.device for o in outcomes if isinstance(o, Completion) and o.device), "")
    return JSONResponse(
        {
            "success": True,
            "results": list(results),
            "metadata": {
                "batch_id": f"batch_{uuid.uuid4().hex[:12]}",
                "total_processing_time": round(asyncio.get_running_loop().time() - started, 4),
                "items_processed": len(results),
                "backend": backend,
            },
        }
    )


def _batch_result(item_id: str, outcome: Completion | MeshError) -> dict[str, Any]:
    if isinstance(outcome, MeshError):
        return {"id": item_id, "success": False, "error": render(outcome, "")["error"]}
    return {
        "id": item_id,
        "generated_text": outcome.text,
        "tokens_generated": outcome.completion_tokens,
        "inference_time": round(outcome.seconds, 4),
    }


@streaming_post(router, "/api/v1/stream_infer", "llama_gpu_stream_infer", "Streaming inference")
async def stream_infer(body: InferRequest, request: Request, clients: Clients) -> Any:
    """SSE ``{"token", "position", "is_complete"}``; the last one adds ``final_text``."""
    return await stream_reply(clients, _canonical(body), _events, _error_events, request_id_of(request))


async def _events(stream: GenerationStream) -> AsyncIterator[bytes]:
    # One token is held back so the last event carries the last token with is_complete, as 004 shows.
    held: str | None = None
    position = 0
    text: list[str] = []
    async for chunk in stream:
        text.append(chunk.text)
        if chunk.finish_reason:
            token = (held or "") + chunk.text
            yield sse_event(
                {"token": token, "position": position, "is_complete": True, "final_text": "".join(text)}
            )
            return
        if held is not None:
            yield sse_event({"token": held, "position": position, "is_complete": False})
            position += 1
        held = chunk.text


def _error_events(error: MeshError) -> list[bytes]:
    body = render(error, "")
    return [sse_event({"token": "", "is_complete": True, "error": body["error"]})]
