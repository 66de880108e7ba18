"""How chat and legacy completions answer one generation: opened first (so errors get a real HTTP
status), named by the id it is metered under, then either collected into one JSON body or streamed
as OpenAI's SSE chunks (one choice each, the usage chunk when asked, then ``[DONE]``), with errors
after the first byte sent in-band, as OpenAI sends them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from gateway.clients import MeshClients
from gateway.dialects.openai.errors import render
from gateway.dialects.openai.prompts import open_generations
from gateway.dialects.openai.shapes import GenerationBody, StreamUsage, response_object, whole_response
from gateway.request_id import request_id_of
from gateway.textgen import (
    FINISH_NAMES,
    Choice,
    collect,
    sse_event,
    sse_response,
)
from meshserve.v1 import inference_pb2 as pb
from services.common.errors import InvalidInput, MeshError

#: What a streamed chunk adds: its choices (one chunk each) given the chunk and its finish reason.
Deltas = Callable[[pb.GenerateResponse, str | None], Iterable[dict[str, Any]]]


def in_band_error(error: MeshError) -> list[bytes]:
    """An error after the stream started, as OpenAI sends it, then the terminator."""
    return [sse_event(render(error, "")), sse_event("[DONE]")]


async def answer(
    clients: MeshClients,
    canonical: Sequence[pb.GenerateRequest],
    request: Request,
    body: GenerationBody,
    *,
    prefix: str,
    kind: str,
    chunk_kind: str,
    choice: Callable[[Choice], dict[str, Any]],
    deltas: Deltas,
    opening: Iterable[dict[str, Any]] = (),
) -> Response:
    """Runs ``canonical`` (one request, or one per prompt): the whole ``kind`` object of its
    ``choice`` s, or with ``body.stream`` the ``chunk_kind`` objects of the ``opening`` choices then
    of each chunk's ``deltas``. Both carry the id ``<prefix>-<the first generation's request id>``."""
    if body.stream_options is not None and not body.stream:  # as OpenAI answers it
        raise InvalidInput(
            "stream_options is only allowed when stream is true", details={"field": "stream_options"}
        )
    stream = await open_generations(clients, canonical)
    # The generation's own id: the one its usage record is metered under.
    response_id = f"{prefix}-{stream.first.request_id or uuid.uuid4().hex}"
    if not body.stream:
        result = await collect(stream)
        return JSONResponse(whole_response(response_id, kind, result, [choice(c) for c in result.choices]))

    def event(created: int, model: str, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        return sse_event(response_object(response_id, chunk_kind, created, model, choices, **extra))

    async def events() -> AsyncIterator[bytes]:
        created, model = stream.first.created, stream.first.model_name
        for first in opening:
            yield event(created, model, [first])
        totals = StreamUsage()
        async for chunk in stream:
            finish = FINISH_NAMES.get(chunk.finish_reason)
            for delta in deltas(chunk, finish):
                yield event(chunk.created, chunk.model_name, [delta])
            if finish:
                totals.add(chunk.usage)
        if body.include_usage:
            yield event(created, model, [], usage=totals.body())
        yield sse_event("[DONE]")

    return sse_response(stream, events(), in_band_error, request_id_of(request))
