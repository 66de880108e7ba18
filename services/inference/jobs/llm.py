"""Jobs run their items through the generation pipeline, like every other generation.

In-process: an item goes through the same plugins, validation, response cache, engine and webhook
events as a ``Generate`` call (:class:`~services.inference.llm.pipeline.GenerationPipeline`),
without a loopback gRPC hop.
"""

from __future__ import annotations

import contextlib

from services.inference.jobs.records import Generated, ItemSpec
from services.inference.llm.pipeline import GenerationPipeline
from services.inference.llm.requests import GenerationRequest, SamplingRequest


def item_request(item: ItemSpec, request_id: str = "") -> GenerationRequest:
    """A job item as a canonical generation request."""
    return GenerationRequest(
        model=item.model,
        prompt=item.prompt,
        sampling=SamplingRequest.from_json(item.sampling),
        request_id=request_id,
    )


class LLMGenerator:
    """Generates a job item's whole text."""

    def __init__(self, pipeline: GenerationPipeline) -> None:
        self.pipeline = pipeline

    def validate(self, item: ItemSpec) -> None:
        """Checks an item before it is queued (raises InvalidInput)."""
        self.pipeline.job(item_request(item))

    async def __call__(self, item: ItemSpec, request_id: str) -> Generated:
        """Runs the generation to its end."""
        parts: list[str] = []
        last = None
        async with contextlib.aclosing(
            self.pipeline.generate(item_request(item, request_id), source="job")
        ) as chunks:
            async for chunk in chunks:
                parts.append(chunk.text)
                last = chunk
        return Generated(
            text="".join(parts),
            model=last.model if last else item.model,
            device=last.device if last else "",
            prompt_tokens=last.prompt_tokens if last else 0,
            completion_tokens=last.completion_tokens if last else 0,
            finish_reason=last.finish_reason if last else "",
        )
