"""Document 003 ``POST /api/ai/advanced/optimize/model``: optimises a registry model for the
described request pattern. The pattern sizes the recorded batch size (``concurrent_requests``,
capped at the workers' batch limit of 32); the optimisation itself is the registry's
(onnxruntime graph optimisation, FP16 on request)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictFloat, StrictInt

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.ace3.optimize import option_strings
from gateway.dialects.auterity.models import model_body
from gateway.dialects.auterity.responses import stamped
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import registry_pb2 as rpb

router = dialect_router("auterity", "auterity")


class RequestPattern(BaseModel):
    """How the model is used."""

    frequency: StrictFloat | None = Field(None, description="Requests per minute.")
    avg_prompt_length: StrictInt | None = Field(None, description="Mean prompt length in tokens.")
    concurrent_requests: StrictInt | None = Field(None, ge=1, description="Requests in flight at once.")


class OptimizeRequest(BaseModel):
    """003's optimize body (``level``, ``quantization`` and ``options`` are meshserve additions)."""

    model_id: str = Field(..., description="Registry model name or id.")
    request_pattern: RequestPattern = Field(default_factory=RequestPattern)
    level: str = Field("standard", description='"basic", "standard" or "aggressive".')
    quantization: str | None = Field(None, description='"16-bit" converts to FP16; other widths are refused.')
    options: dict[str, Any] = Field(default_factory=dict, description="As document 000's optimize options.")


@router.post(
    "/api/ai/advanced/optimize/model",
    summary="Optimise a model for a request pattern (document 003)",
    status_code=201,
)
async def optimize_model(body: OptimizeRequest, request: Request, clients: Clients) -> JSONResponse:
    """Creates the optimised version and says what was done."""
    options = option_strings(body.options)
    pattern = body.request_pattern
    if pattern.concurrent_requests and "batch_size" not in options:
        options["batch_size"] = str(min(32, pattern.concurrent_requests))
    if body.quantization is not None:
        options["quantization"] = body.quantization  # the registry applies 16-bit, refuses the rest
    reply = await clients.call(
        clients.registry.OptimizeModel,
        rpb.OptimizeModelRequest(
            ref=common.ModelRef(name=body.model_id), target="inference", level=body.level, options=options
        ),
        timeout=600,
    )
    model = reply.model
    return stamped(
        request,
        {
            "model_id": model.id,
            "source_model_id": body.model_id,
            "model": model_body(model),
            "optimized": model.optimized,
            "optimizations": list(reply.applied),
            "request_pattern": pattern.model_dump(exclude_none=True),
        },
        201,
    )
