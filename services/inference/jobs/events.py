"""Webhook events from the inference servicer's own calls: ``inference.completed`` with every
finished ``Generate`` and ``model.updated`` after ``LoadModel``/``UnloadModel``.

A mixin over the inference servicer (:class:`EventedInferenceServicer`): it wraps those RPCs and
leaves them unchanged when no webhook listens (``webhooks`` unset or nobody subscribed), so the hot
path pays one check.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc

from meshserve.v1 import inference_pb2 as pb
from meshserve.v1 import inference_pb2_grpc as pb_grpc
from services.inference.jobs.webhooks import WebhookHub
from services.inference.servicer import InferenceServicer

_FINISH_NAMES = {pb.FINISH_REASON_STOP: "stop", pb.FINISH_REASON_LENGTH: "length"}


class WebhookEventsMixin(pb_grpc.InferenceServiceServicer):
    """Announces finished generations and model changes to webhooks."""

    webhooks: WebhookHub | None = None

    def _listening(self, event: str) -> WebhookHub | None:
        hub = self.webhooks
        return hub if hub is not None and hub.subscribed(event) else None

    async def Generate(
        self, request: pb.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.GenerateResponse]:
        """The generation, unchanged; ``inference.completed`` as its last message goes out.

        The event is sent before the last message is yielded: a caller that has what it wanted
        cancels the call, and a generator cancelled at that ``yield`` would never get past it.
        """
        hub = self._listening("inference.completed")
        stream = super().Generate(request, context)
        if hub is None:
            async with contextlib.aclosing(stream):  # type: ignore[type-var]
                async for reply in stream:
                    yield reply
            return
        started = time.perf_counter()
        parts: list[str] = []
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            async for reply in stream:
                parts.append(reply.text)
                if reply.finish_reason:
                    hub.emit("inference.completed", self._completed(request, reply, parts, started))
                yield reply

    @staticmethod
    def _completed(
        request: pb.GenerateRequest, last: pb.GenerateResponse, parts: list[str], started: float
    ) -> dict[str, Any]:
        """The ``inference.completed`` payload of a finished generation."""
        return {
            "source": "generate",
            "request_id": last.request_id or request.request_id,
            "model_id": last.model_name,
            "response": "".join(parts),
            "prompt_tokens": last.usage.prompt_tokens,
            "completion_tokens": last.usage.completion_tokens,
            "finish_reason": _FINISH_NAMES.get(last.finish_reason, "stop"),
            "processing_time": round(time.perf_counter() - started, 4),
        }

    async def LoadModel(self, request: pb.LoadModelRequest, context: grpc.aio.ServicerContext) -> Any:
        """Loads the model; ``model.updated`` with its new state."""
        reply = await super().LoadModel(request, context)
        hub = self._listening("model.updated")
        if hub is not None:
            hub.emit(
                "model.updated",
                {
                    "model_id": request.model.name,
                    "version": request.model.version,
                    "action": "loaded",
                    "workers": list(reply.state.worker_ids),
                    "device": reply.state.device,
                },
            )
        return reply

    async def UnloadModel(self, request: pb.UnloadModelRequest, context: grpc.aio.ServicerContext) -> Any:
        """Unloads the model; ``model.updated`` saying so."""
        reply = await super().UnloadModel(request, context)
        hub = self._listening("model.updated")
        if hub is not None:
            hub.emit(
                "model.updated",
                {
                    "model_id": request.model.name,
                    "version": request.model.version,
                    "action": "unloaded",
                    "freed_memory_bytes": reply.freed_memory_bytes,
                },
            )
        return reply


class EventedInferenceServicer(WebhookEventsMixin, InferenceServicer):
    """The inference servicer with webhook events (what the service serves)."""
