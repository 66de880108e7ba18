"""Document 000: ``POST /v1/models/{model_id}/predict`` → ``{"outputs", "latency_ms", "request_id"}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from gateway.deps import Clients
from gateway.dialects.ace3.tensors import outputs_json, predict
from gateway.request_id import request_id_of

router = APIRouter(tags=["ace3"])


class PredictBody(BaseModel):
    """000's predict request."""

    inputs: Any = Field(..., description="Nested list for the model's single input, or {name: values}.")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Options such as batch_size (informative)."
    )


@router.post(
    "/v1/models/{model_id}/predict",
    operation_id="ace3_predict",
    summary="Run inference on a model (document 000)",
)
async def ace3_predict(
    model_id: str, body: PredictBody, request: Request, clients: Clients
) -> dict[str, Any]:
    """Runs the model on the inputs on a Triton worker."""
    reply = await predict(clients, model_id, body.inputs, request_id_of(request))
    return {"outputs": outputs_json(reply), "latency_ms": reply.latency_ms, "request_id": reply.request_id}
