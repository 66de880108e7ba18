"""Document 000's ``client.optimize(model, target, level, options)`` over REST (000 names no path):
``POST /v1/models/{model_id}/optimize`` → 201 with the new optimised version."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.openai.models import ace3_object
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import registry_pb2 as rpb

router = dialect_router("ace3", "ace3")


class OptimizeBody(BaseModel):
    """000's optimize arguments."""

    target: str = Field("inference", description='"inference" (what meshserve optimises for).')
    level: str = Field("standard", description='"basic", "standard" or "aggressive".')
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="use_fp16, enable_kernel_fusion (applied); batch_size, max_sequence_length (recorded).",
    )


def option_strings(options: dict[str, Any]) -> dict[str, str]:
    """JSON option values as the strings the registry contract carries (true/false for booleans)."""
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in options.items()}


@router.post(
    "/v1/models/{model_id}/optimize",
    summary="Optimise an ONNX model into a new version (document 000 client.optimize)",
    status_code=201,
)
async def optimize_model(model_id: str, clients: Clients, body: OptimizeBody | None = None) -> JSONResponse:
    """onnxruntime graph optimisation (FP16 on request); the result is a new version, optimized=true."""
    body = body or OptimizeBody()
    reply = await clients.call(
        clients.registry.OptimizeModel,
        rpb.OptimizeModelRequest(
            ref=common.ModelRef(name=model_id),
            target=body.target,
            level=body.level,
            options=option_strings(body.options),
        ),
        timeout=600,
    )
    return JSONResponse(
        {**ace3_object(reply.model), "object": "model", "applied": list(reply.applied)}, status_code=201
    )
