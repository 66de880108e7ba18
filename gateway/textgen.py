"""Text generation calls shared by the dialects: one canonical request, a settled stream, SSE framing.

A dialect builds a :class:`GenerateRequest` with :func:`generate_request`, opens it with
:func:`open_stream` (which waits for the first chunk so validation errors still get a real HTTP
status), then either :func:`collect` s it or renders each chunk as an SSE event through
:func:`sse_response`. A client that disconnects closes the generator, which cancels the gRPC call
and so frees the sequence's slot on the worker.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import Field, StrictInt

from gateway.clients import MeshClients
from gateway.reply_headers import add_reply_header
from gateway.streams import OpenStream
from meshserve.v1 import common_pb2
from meshserve.v1 import inference_pb2 as pb
from services.common.clients import call_metadata
from services.common.context import QUOTA_LIMIT_KEY, QUOTA_REMAINING_KEY, QUOTA_RESET_KEY
from services.common.errors import InvalidInput, MeshError

#: A sampling seed as the contract holds it (int64); a larger one is the caller's 400 naming ``seed``.
Seed = Annotated[StrictInt | None, Field(ge=-(2**63), le=2**63 - 1)]

FINISH_NAMES = {
    pb.FINISH_REASON_STOP: "stop",
    pb.FINISH_REASON_LENGTH: "length",
    pb.FINISH_REASON_TOOL_CALLS: "tool_calls",
}
#: Deadline of a generation stream: long generations on CPU take minutes, not seconds.
STREAM_TIMEOUT_SECONDS = 900.0


def generate_request(
    *,
    model: str | None,
    prompt: str | list[int] = "",
    messages: list[tuple[str, str]] | list[pb.ChatMessage] | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    top_k: int | None = None,
    stop: str | list[str] | None = None,
    frequency_penalty: float | None = None,
    presence_penalty: float | None = None,
    seed: int | None = None,
    logit_bias: dict[str, float] | None = None,
    n: int = 1,
    best_of: int | None = None,
    logprobs: bool = False,
    top_logprobs: int | None = None,
    response_format: pb.ResponseFormat | None = None,
    tools: list[pb.Tool] | None = None,
    tool_choice: str = "",
    tool_choice_name: str = "",
    request_id: str = "",
    user: str | None = None,
    echo: bool = False,
) -> pb.GenerateRequest:
    """The canonical request; ranges are checked by the inference service, not here (JSON's
    token ids only become the contract's integers). A ``prompt`` of token ids is sent as such."""
    sampling = pb.SamplingParams(
        top_k=top_k or 0,
        stop=[stop] if isinstance(stop, str) else list(stop or []),
        frequency_penalty=frequency_penalty or 0.0,
        presence_penalty=presence_penalty or 0.0,
        logit_bias=_biases(logit_bias or {}),
        n=n,
        best_of=best_of or 0,
        logprobs=logprobs,
        top_logprobs=top_logprobs or 0,
        response_format=response_format,
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
        prompt=prompt if isinstance(prompt, str) else "",
        prompt_token_ids=[] if isinstance(prompt, str) else token_ids(prompt, "prompt"),
        messages=[
            m if isinstance(m, pb.ChatMessage) else pb.ChatMessage(role=m[0], content=m[1])
            for m in messages or []
        ],
        sampling=sampling,
        request_id=request_id,
        tools=tools or [],
        tool_choice=tool_choice,
        tool_choice_name=tool_choice_name,
        user=user or "",
        echo=echo,
    )


def _biases(bias: dict[str, float]) -> dict[int, float]:
    """OpenAI's logit_bias keys (token ids written as strings) as integers."""
    try:
        tokens = [int(token) for token in bias]
    except ValueError:
        raise InvalidInput(
            "logit_bias keys must be token ids (integers written as strings)",
            details={"field": "logit_bias", "provided": sorted(bias)[:5]},
        ) from None
    return dict(zip(token_ids(tokens, "logit_bias"), bias.values(), strict=True))


def token_ids(ids: list[int], field: str) -> list[int]:
    """Token ids as the contract's 32-bit integers: one that cannot be a token id is refused
    naming ``field`` (whether the model has it is the inference service's check)."""
    for token in ids:
        if not 0 <= token < 2**31:
            raise InvalidInput(
                f"{field} holds {token}, which is not a token id (0 or more)",
                details={"field": field, "provided": token},
            )
    return ids


GenerationStream = OpenStream[pb.GenerateResponse]


class Generation(Protocol):
    """What replies read: a generation's chunks, its first already arrived (a
    :data:`GenerationStream`, or several joined)."""

    first: pb.GenerateResponse
    started: float

    def __aiter__(self) -> AsyncIterator[pb.GenerateResponse]: ...

    def cancel(self) -> None: ...


async def open_stream(clients: MeshClients, request: pb.GenerateRequest) -> GenerationStream:
    """Starts a generation and waits for its first chunk (errors raise before any byte is sent).
    The stream ends once each of the request's ``n`` choices has finished."""
    call, first = await clients.open_stream(
        "inference",
        lambda: clients.inference.Generate(request, timeout=STREAM_TIMEOUT_SECONDS, metadata=call_metadata()),
        "generation",
    )
    await show_quota(call)
    unfinished = {"choices": max(1, request.sampling.n)}

    def is_last(chunk: pb.GenerateResponse) -> bool:
        if chunk.finish_reason:
            unfinished["choices"] -= 1
        return unfinished["choices"] == 0

    return OpenStream(call, first, is_last)


#: A tenant's token quota as the inference service reports it, and the headers that show it.
QUOTA_HEADERS = (
    (QUOTA_LIMIT_KEY, "X-Quota-Tokens-Limit"),
    (QUOTA_REMAINING_KEY, "X-Quota-Tokens-Remaining"),
    (QUOTA_RESET_KEY, "X-Quota-Reset"),
)


async def show_quota(call: Any) -> None:
    """Adds the caller's token quota, as it stood when the generation was admitted, to the reply's
    headers (a tenant without a quota gets none)."""
    metadata = await call.initial_metadata()
    if metadata is None:
        return
    for key, header in QUOTA_HEADERS:
        value = metadata.get(key)
        if value is not None:
            add_reply_header(header, str(value))


@dataclass
class Choice:
    """One of a generation's ``n`` choices, whole."""

    index: int
    text: str = ""
    finish_reason: str = ""
    completion_tokens: int = 0
    #: With logprobs: one entry per generated token.
    logprobs: list[pb.TokenLogprob] = field(default_factory=list)
    #: The calls of the request's tools its reply made (finish_reason "tool_calls").
    tool_calls: list[pb.ToolCall] = field(default_factory=list)


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
    #: Every choice, by index (``text`` and ``finish_reason`` above are choice 0's).
    choices: list[Choice] = field(default_factory=list)

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def confidence(self) -> float | None:
        """Geometric-mean probability of the generated tokens, in [0, 1] (None when unknown)."""
        return None if self.mean_logprob is None else round(math.exp(self.mean_logprob), 4)


async def collect(stream: Generation) -> Completion:
    """Reads a stream to its end. Usage counts the prompt once and the tokens of every choice."""
    choices: dict[int, Choice] = {}
    parts: dict[int, list[str]] = {}
    last = stream.first
    async for chunk in stream:
        choice = choices.setdefault(chunk.choice, Choice(chunk.choice))
        parts.setdefault(chunk.choice, []).append(chunk.text)
        choice.logprobs.extend(chunk.logprobs)
        if chunk.finish_reason:
            choice.finish_reason = FINISH_NAMES.get(chunk.finish_reason, "stop")
            choice.completion_tokens = chunk.usage.completion_tokens
            choice.tool_calls.extend(chunk.tool_calls)
            last = chunk
    for index, choice in choices.items():
        choice.text = "".join(parts[index])
    ordered = [choices[i] for i in sorted(choices)]
    return Completion(
        text=ordered[0].text if ordered else "",
        finish_reason=ordered[0].finish_reason if ordered else "stop",
        prompt_tokens=last.usage.prompt_tokens,
        completion_tokens=sum(c.completion_tokens for c in ordered),
        cached_tokens=last.usage.cached_tokens,
        choices=ordered,
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


#: Items one synchronous batch may hold: its caller waits on one connection for all of them (a
#: larger batch is a job: ``/api/ai/advanced/batch/create``).
MAX_BATCH_ITEMS = 100


async def generate_each(
    clients: MeshClients, requests: Sequence[pb.GenerateRequest], concurrency: int
) -> list[Completion | MeshError]:
    """Every request's whole generation, ``concurrency`` at a time, in request order; a request that
    failed has its error in its place, so one bad input does not fail a batch."""
    limit = asyncio.Semaphore(concurrency)

    async def one(request: pb.GenerateRequest) -> Completion | MeshError:
        async with limit:
            try:
                return await generate(clients, request)
            except MeshError as error:
                return error

    return list(await asyncio.gather(*(one(r) for r in requests)))


def sse_event(data: dict[str, Any] | str) -> bytes:
    """One ``data:`` frame."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n".encode()


#: The OpenAPI responses of a route that streams Server-Sent Events (or, without ``stream``, JSON).
SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {"type": "string", "contentMediaType": "application/json", "description": "JSON, or [DONE]"},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
}
SSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The result, or with streaming a `text/event-stream` of `data:` events",
        # One event, as OpenAPI's media-type registry models text/event-stream: its fields.
        "content": {"text/event-stream": {"schema": SSE_EVENT}},
    }
}


def streaming_post(router: APIRouter, path: str, operation_id: str, summary: str) -> Callable[[Any], Any]:
    """``router.post`` for a route that answers JSON, or with ``stream`` an SSE stream."""
    return router.post(path, operation_id=operation_id, summary=summary, responses=SSE_RESPONSES)


def sse_response(
    stream: Generation,
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


async def stream_reply(
    clients: MeshClients,
    request: pb.GenerateRequest,
    events: Callable[[GenerationStream], AsyncIterator[bytes]],
    on_error: Callable[[MeshError], list[bytes]],
    request_id: str,
) -> StreamingResponse:
    """Opens the generation (its errors still get a real HTTP status) and answers with ``events`` of
    it as SSE, an error after the first byte in-band by ``on_error``."""
    stream = await open_stream(clients, request)
    return sse_response(stream, events(stream), on_error, request_id)
