"""Legacy completions with several prompts (OpenAI's ``prompt: ["…", "…"]``): one generation per
prompt, all running at once in the engine's continuous batch, answered as one completion.

OpenAI numbers the choices prompt by prompt: prompt ``i``'s ``j``-th choice is ``i * n + j``. The
joined stream renumbers each chunk so, and keeps the usage a running total over the prompts, so
that whoever reads the usage of the last finished choice (``collect``, ``StreamUsage``) counts each
prompt's tokens once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence

from pydantic import StrictInt

from gateway.clients import MeshClients
from gateway.dialects.openai.shapes import items_of
from gateway.textgen import Generation, open_stream
from meshserve.v1 import inference_pb2 as pb
from services.common.errors import InvalidInput

#: Prompts one request may hold: each takes ``n`` (or ``best_of``) of the engine's batch slots.
MAX_PROMPTS = 16

#: What ``prompt`` may hold: a string, strings, one prompt as token ids, or several.
Prompt = str | list[str] | list[StrictInt] | list[list[StrictInt]]


def prompts_of(prompt: Prompt) -> list[str | list[int]]:
    """The request's prompts, each a string or the model's token ids; an empty list and more than
    :data:`MAX_PROMPTS` prompts are refused naming ``prompt`` (whether the ids are the model's is
    checked by the inference service)."""
    if not prompt:
        raise InvalidInput("prompt is an empty list", details={"field": "prompt"})
    prompts = items_of(prompt)
    if len(prompts) > MAX_PROMPTS:
        raise InvalidInput(
            f"prompt holds {len(prompts)} prompts; at most {MAX_PROMPTS} per request",
            details={"field": "prompt", "provided": len(prompts), "max_items": MAX_PROMPTS},
        )
    return prompts


async def open_generations(clients: MeshClients, requests: Sequence[pb.GenerateRequest]) -> Generation:
    """Opens every request's generation at once: the one stream, or several joined. When one
    cannot open, the others are cancelled and its error is raised (before any byte is sent)."""
    if len(requests) == 1:
        return await open_stream(clients, requests[0])
    opened = await asyncio.gather(*(open_stream(clients, r) for r in requests), return_exceptions=True)
    streams = [s for s in opened if not isinstance(s, BaseException)]
    failure = next((s for s in opened if isinstance(s, BaseException)), None)
    if failure is not None:
        for stream in streams:
            stream.cancel()
        raise failure
    return JoinedGenerations(streams, max(1, requests[0].sampling.n))


class JoinedGenerations:
    """The chunks of several prompts' generations as they come, renumbered and with running usage."""

    def __init__(self, streams: Sequence[Generation], n: int) -> None:
        self._streams = list(streams)
        self._n = n
        self.first = streams[0].first
        self.started = time.perf_counter()

    async def __aiter__(self) -> AsyncIterator[pb.GenerateResponse]:
        chunks: asyncio.Queue[tuple[int, pb.GenerateResponse | BaseException | None]] = asyncio.Queue()

        async def read(index: int, stream: Generation) -> None:
            try:
                async for chunk in stream:
                    await chunks.put((index, chunk))
                await chunks.put((index, None))
            except Exception as error:
                await chunks.put((index, error))

        readers = [asyncio.create_task(read(i, s)) for i, s in enumerate(self._streams)]
        prompt_usage: dict[int, pb.Usage] = {}
        running = len(readers)
        try:
            while running:
                index, item = await chunks.get()
                if item is None:
                    running -= 1
                    continue
                if isinstance(item, BaseException):
                    raise item
                item.choice += index * self._n
                if item.finish_reason:
                    prompt_usage.setdefault(index, pb.Usage()).CopyFrom(item.usage)
                    item.usage.prompt_tokens = sum(u.prompt_tokens for u in prompt_usage.values())
                    item.usage.cached_tokens = sum(u.cached_tokens for u in prompt_usage.values())
                yield item
        finally:
            for reader in readers:
                reader.cancel()
            self.cancel()

    def cancel(self) -> None:
        """Cancels every prompt's call."""
        for stream in self._streams:
            stream.cancel()
