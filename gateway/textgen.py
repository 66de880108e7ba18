"""Text generation calls shared by the dialects: one canonical request, a settled stream, SSE framing.

A dialect builds a :class:`GenerateRequest` with :func:`generate_request`, opens it with
:func:`open_stream` (which waits for the first chunk so validation errors still get a real HTTP
status), then either :func:`collect` s it or renders each chunk as an SSE event through
:func:`sse_response`. A client that disconnects closes the generator, which cancels the gRPC call
and so frees the sequence's slot on the worker.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import StreamingResponse

from gateway.clients import MeshClients
from gateway.streams import OpenStream, first_message
from meshserve.v1 import common_pb2
from meshserve.v1 import inference_pb2 as pb
from services.common.clients import call_metadata
from services.common.errors import InvalidInput, MeshError

FINISH_NAMES = {pb.FINISH_REASON_STOP: "stop", pb.FINISH_REASON_LENGTH: "length"}
#: Deadline of a generation stream: long generations on CPU take minutes, not seconds.
STREAM_TIMEOUT_SECONDS = 900.0


def generate_request(
    *,
    model: str | None,
    prompt: str = "",
    messages: list[tuple[str, str]] | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    top_k: int | None = None,
    stop: str | list[str] | None = None,
    frequency_penalty: float | None = None,
    presence_penalty: float | None = None,
    seed: int | None = None,
    logit_bias: dict[str, float] | None = None,
    request_id: str = "",
) -> pb.GenerateRequest:
    """The canonical request; ranges are checked by the inference service, not here (JSON's
    string token ids only become the contract's integers)."""
    sampling = pb.SamplingParams(
        top_k=top_k or 0,
        stop=[stop] if isinstance(stop, str) else list(stop or []),
        frequency_penalty=frequency_penalty or 0.0,
        presence_penalty=presence_penalty or 0.0,
        logit_bias=_token_ids(logit_bias or {}),
    )
    if max_tokens is not None:
        sampling.max_completion_tokens = max_tokens
    if temperature is not None:
        sampling.temperature = temperature
    if top_p is not None:
        sampling.top_p = top_p
    if seed is not None:
        sampling.seed = seed
    return pb.GenerateRequest(
        model=common_pb2.ModelRef(name=model or ""),
        prompt=prompt,
        messages=[pb.ChatMessage(role=r, content=c) for r, c in messages or []],
        sampling=sampling,
        request_id=request_id,
    )


def _token_ids(bias: dict[str, float]) -> dict[int, float]:
    """OpenAI's logit_bias keys (token ids written as strings) as integers."""
    try:
        return {int(token): float(value) for token, value in bias.items()}
    except ValueError:
        raise InvalidInput(
            "logit_bias keys must be token ids (integers written as strings)",
            details={"field": "logit_bias", "provided": sorted(bias)[:5]},
        ) from None


GenerationStream = OpenStream[pb.GenerateResponse]


async def open_stream(clients: MeshClients, request: pb.GenerateRequest) -> GenerationStream:
    """Starts a generation and waits for its first chunk (errors raise before any byte is sent)."""
    call = clients.inference.Generate(request, timeout=STREAM_TIMEOUT_SECONDS, metadata=call_metadata())
    first = await first_message(call, "generation")
    return OpenStream(call, first, lambda chunk: bool(chunk.finish_reason))


@dataclass
class Completion:
    """A whole generation."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    device: str
    request_id: str
    created: int
    seconds: float
    #: Mean log-probability of the generated tokens (None when the engine did not report one).
    mean_logprob: float | None = None
    #: Served from the inference service's response cache rather than generated now.
    cached: bool = False
    #: Prompt tokens not evaluated again (the engine's prompt cache, or the response cache).
    cached_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def confidence(self) -> float | None:
        """Geometric-mean probability of the generated tokens, in [0, 1] (None when unknown)."""
        return None if self.mean_logprob is None else round(math.exp(self.mean_logprob), 4)


async def collect(stream: GenerationStream) -> Completion:
    """Reads a stream to its end."""
    parts: list[str] = []
    last = stream.first
    async for chunk in stream:
        parts.append(chunk.text)
        last = chunk
    return Completion(
        text="".join(parts),
        finish_reason=FINISH_NAMES.get(last.finish_reason, "stop"),
        prompt_tokens=last.usage.prompt_tokens,
        completion_tokens=last.usage.completion_tokens,
        cached_tokens=last.usage.cached_tokens,
        model=last.model_name or stream.first.model_name,
        device=last.device or stream.first.device,
        request_id=stream.first.request_id,
        created=stream.first.created or int(time.time()),
        seconds=time.perf_counter() - stream.started,
        mean_logprob=last.mean_logprob if last.HasField("mean_logprob") else None,
        cached=stream.first.cached,
    )


async def generate(clients: MeshClients, request: pb.GenerateRequest) -> Completion:
    """A whole generation in one call."""
    return await collect(await open_stream(clients, request))


def sse_event(data: dict[str, Any] | str) -> bytes:
    """One ``data:`` frame."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n".encode()


def sse_response(
    stream: GenerationStream,
    events: AsyncIterator[bytes],
    on_error: Callable[[MeshError], list[bytes]],
    request_id: str,
) -> StreamingResponse:
    """An SSE response; an error after the first byte is sent in-band by ``on_error``."""

    async def body() -> AsyncIterator[bytes]:
        try:
            async for frame in events:
                yield frame
        except MeshError as error:
            for frame in on_error(error):
                yield frame
        finally:
            # Abandoned async generators are not closed promptly: cancel the call explicitly.
            stream.cancel()
            await events.aclose()  # type: ignore[attr-defined]

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Request-ID": request_id}
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)
