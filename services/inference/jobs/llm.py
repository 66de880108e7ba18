"""Jobs run their items on the service's own text generation (the API ``Generate`` uses).

In-process: the item goes through the same request validation (``build_job``) and the same
``GenerationService`` (placement, continuous batching on a Triton worker) as a ``Generate`` call,
without a loopback gRPC hop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from services.inference.jobs.manager import Generated
from services.inference.jobs.records import ItemSpec
from services.inference.llm.requests import GenerationJob, build_job
from services.inference.llm.service import GenerationService


class LLMGenerator:
    """Generates a job item's whole text."""

    def __init__(self, service: Callable[[], GenerationService]) -> None:
        self._service = service  # resolved per call: the servicer builds its service lazily

    def request(self, item: ItemSpec, request_id: str = "") -> GenerationJob:
        """The validated generation request of an item; raises InvalidInput."""
        settings = self._service().settings
        return build_job(
            model=item.model,
            prompt=item.prompt,
            messages=[],
            sampling=item.sampling,
            default_max_tokens=settings.default_max_tokens,
            max_prompt_chars=settings.max_prompt_chars,
            request_id=request_id,
        )

    def validate(self, item: ItemSpec) -> None:
        """Checks an item before it is queued."""
        self.request(item)

    async def __call__(self, item: ItemSpec, request_id: str) -> Generated:
        """Runs the generation to its end."""
        service = self._service()
        job = self.request(item, request_id)
        parts: list[str] = []
        last = None
        async with contextlib.aclosing(service.generate(job)) as chunks:
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
