"""Pipeline stages that shape a generation's choices after the engine: ``best_of`` keeps the most
likely candidates, ``echo`` starts each choice's text with its prompt (OpenAI completions' two
options of the same names). No transport imports."""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncGenerator
from dataclasses import replace

from services.inference.llm.chunks import Chunk


async def most_likely(chunks: AsyncGenerator[Chunk, None], keep: int) -> AsyncGenerator[Chunk, None]:
    """The ``keep`` candidates with the highest mean token log-probability, best first, numbered
    0 to ``keep - 1``; sent once every candidate has ended, since the best is known only then.

    What the others generated is still the reply's cost: their completion tokens are added to the
    last kept choice's (usage is the sum over the choices, so it counts every candidate, as OpenAI
    bills ``best_of``).
    """
    held: dict[int, list[Chunk]] = {}
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            held.setdefault(chunk.choice, []).append(chunk)
    ended = {choice: parts for choice, parts in held.items() if parts[-1].finish_reason}
    ranked = sorted(ended, key=lambda choice: (-_mean_logprob(ended[choice][-1]), choice))
    kept, dropped = ranked[:keep], ranked[keep:]
    unseen_tokens = sum(held[choice][-1].completion_tokens for choice in dropped)
    for rank, choice in enumerate(kept):
        *parts, last = held[choice]
        if rank == len(kept) - 1:
            last = replace(last, completion_tokens=last.completion_tokens + unseen_tokens)
        for chunk in (*parts, last):
            yield replace(chunk, choice=rank)


def _mean_logprob(last: Chunk) -> float:
    return last.mean_logprob if last.mean_logprob is not None else -math.inf


async def echoed(chunks: AsyncGenerator[Chunk, None], prompt: str) -> AsyncGenerator[Chunk, None]:
    """The chunks, each choice's first one starting with ``prompt`` (and, with logprobs, its
    tokens' log-probabilities)."""
    started: set[int] = set()
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            if chunk.choice in started:
                yield chunk
                continue
            started.add(chunk.choice)
            yield replace(
                chunk,
                text=prompt + chunk.text,
                logprobs=chunk.prompt_logprobs + chunk.logprobs,
                prompt_logprobs=(),
            )
