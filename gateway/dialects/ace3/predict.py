"""Document 000: ``POST /v1/models/{model_id}/predict`` → ``{"outputs", "latency_ms", "request_id"}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from gateway.clients import MeshClients
from gateway.dialects.ace3.tensors import TensorResponse, outputs_json, predict
from gateway.json_body import body_schema, json_body, path_parameters
from gateway.request_id import request_id_of
from gateway.routers import hot

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
    response_model=dict[str, Any],  # documented only: a Response is returned as it is
    openapi_extra={"parameters": path_parameters("model_id"), "requestBody": body_schema(PredictBody)},
)
@hot
async def ace3_predict(request: Request) -> Response:
    """Runs the model on the inputs on a Triton worker."""
    body = await json_body(request, PredictBody)
    clients: MeshClients = request.app.state.clients
    reply = await predict(clients, request.path_params["model_id"], body.inputs, request_id_of(request))
    return TensorResponse(
        {"outputs": outputs_json(reply), "latency_ms": reply.latency_ms, "request_id": reply.request_id}
    )
