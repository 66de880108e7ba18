"""Fitting a conversation to the model's context by leaving out its oldest messages (the Responses
API's ``truncation: "auto"``). No transport imports.

The prompt is measured as the worker will read it: the job's messages (the tools' description
included) through the model's chat template, counted by the model's own tokenizer. The fewest
oldest messages after the instructions are left out for the prompt and ``max_tokens`` to fit
(found by bisection, a tokenizer call per step); a tool's output left at the front without the call
it answers goes too, and the last message always stays. What still does not fit is left for the
engine to refuse, as without truncation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from services.inference.llm.requests import GenerationJob, GenerationRequest
from services.inference.llm.vocabulary import Vocabulary
from services.inference.plugins.base import Message


async def fit_history(
    request: GenerationRequest,
    instructions: int,
    vocabulary: Vocabulary,
    job_of: Callable[[GenerationRequest], GenerationJob],
) -> GenerationRequest:
    """``request`` with the fewest oldest messages after its first ``instructions`` left out for its
    prompt and max_tokens to fit the context (unchanged when it fits, or when nothing helps)."""
    head, body = request.messages[:instructions], request.messages[instructions:]

    def kept(dropped: int) -> GenerationRequest:
        rest = body[dropped:]
        while len(rest) > 1 and rest[0].role == "tool":  # an output without its call
            rest = rest[1:]
        return replace(request, messages=(*head, *rest))

    async def fits(candidate: GenerationRequest) -> bool:
        job = job_of(candidate)
        messages = [Message(m["role"], m["content"]) for m in job.messages]
        counted = await vocabulary.tokenize(candidate.model, "", messages, False)
        room = job.params.max_tokens if job.max_tokens_explicit else 1
        return len(counted.tokens) + room <= counted.max_model_len

    if len(body) <= 1 or await fits(request):
        return request
    low, high = 1, len(body) - 1  # the fewest to drop lies in [low, high], if any does
    if not await fits(kept(high)):
        return request
    while low < high:
        middle = (low + high) // 2
        if await fits(kept(middle)):
            high = middle
        else:
            low = middle + 1
    return kept(low)
