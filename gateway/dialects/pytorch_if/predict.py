"""Document 001: ``POST /predict`` → ``{"success", "result", "processing_time", "model_info"}``."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from gateway.clients import MeshClients
from gateway.dialects.ace3.tensors import TensorResponse, outputs_json, predict
from gateway.json_body import body_schema, json_body
from gateway.request_id import request_id_of
from gateway.routers import hot

router = APIRouter(tags=["pytorch-if"])


class PredictBody(BaseModel):
    """001's unified prediction request."""

    model_name: str = Field("example", description="Model to run; 'example' is built in.")
    inputs: Any = Field(..., description="Values for the model's single input, or {name: values}.")


@router.post(
    "/predict",
    operation_id="pytorch_if_predict",
    summary="Unified prediction (document 001)",
    response_model=dict[str, Any],  # documented only: a Response is returned as it is
    openapi_extra={"requestBody": body_schema(PredictBody)},
)
@hot
async def pytorch_if_predict(request: Request) -> Response:
    """Runs the model on a Triton worker and wraps the outputs in 001's success envelope."""
    started = time.perf_counter()
    body = await json_body(request, PredictBody)
    clients: MeshClients = request.app.state.clients
    reply = await predict(clients, body.model_name, body.inputs, request_id_of(request))
    return TensorResponse(
        {
            "success": True,
            "result": outputs_json(reply),
            "processing_time": round(time.perf_counter() - started, 6),
            "model_info": {"model": reply.model_name, "version": reply.model_version, "device": reply.device},
            "latency_ms": reply.latency_ms,
            "worker_id": reply.worker_id,
            "request_id": reply.request_id,
        }
    )
