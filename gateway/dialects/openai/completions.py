"""OpenAI ``POST /v1/completions`` (document 002 ``client.completions.create``), streaming or not."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field, StrictBool, StrictInt

from gateway.deps import Clients
from gateway.dialects.envelope import fields_named
from gateway.dialects.openai.prompts import Prompt, prompts_of
from gateway.dialects.openai.replies import answer
from gateway.dialects.openai.shapes import GenerationBody, legacy_logprobs
from gateway.textgen import Choice, generate_request, streaming_post
from meshserve.v1 import inference_pb2 as pb
from services.common.errors import InvalidInput

router = APIRouter(tags=["openai"])


class CompletionRequest(GenerationBody):
    """Body of ``POST /v1/completions``."""

    prompt: Prompt = Field(
        ...,
        description="The prompt as text or as the model's token ids, or up to 16 prompts: their "
        "choices are numbered prompt by prompt.",
    )
    logprobs: StrictInt | None = Field(
        None, description="Return each token's log-probability with this many alternatives (0 to 20)."
    )
    best_of: StrictInt | None = Field(
        None, description="Candidates to generate (n to 8); the n most likely are returned, best first."
    )
    echo: StrictBool = Field(False, description="Each choice's text starts with the prompt.")
    suffix: str | None = Field(None, description="Not supported: the models have no fill-in-the-middle mode.")


@streaming_post(router, "/v1/completions", "openai_create_completion", "Text completion")
async def create_completion(body: CompletionRequest, request: Request, clients: Clients) -> Any:
    """Completes a prompt; ``stream: true`` answers with SSE chunks."""
    if body.suffix:
        raise InvalidInput(
            "suffix is not supported: the models here have no fill-in-the-middle mode",
            details={"field": "suffix"},
        )
    canonical = [
        generate_request(
            model=body.model,
            prompt=prompt,
            best_of=body.best_of,
            echo=body.echo,
            max_tokens=body.max_tokens,
            logprobs=body.logprobs is not None,
            top_logprobs=body.logprobs,
            **body.sampling(),
        )
        for prompt in prompts_of(body.prompt)
    ]
    with_logprobs = body.logprobs is not None

    def choice(c: Choice) -> dict[str, Any]:
        return {
            "text": c.text,
            "index": c.index,
            "logprobs": legacy_logprobs(c.logprobs) if with_logprobs else None,
            "finish_reason": c.finish_reason,
        }

    offsets: dict[int, int] = {}

    def deltas(chunk: pb.GenerateResponse, finish: str | None) -> list[dict[str, Any]]:
        if not (chunk.text or finish):
            return []
        offset = offsets.get(chunk.choice, 0)
        offsets[chunk.choice] = offset + len(chunk.text)
        return [
            {
                "text": chunk.text,
                "index": chunk.choice,
                "logprobs": legacy_logprobs(list(chunk.logprobs), offset) if with_logprobs else None,
                "finish_reason": finish,
            }
        ]

    with fields_named({"messages": "prompt"}):  # an empty prompt is the canonical "no messages"
        return await answer(
            clients,
            canonical,
            request,
            body,
            prefix="cmpl",
            kind="text_completion",
            chunk_kind="text_completion",
            choice=choice,
            deltas=deltas,
        )
