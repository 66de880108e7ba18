"""Document 003 ``POST /api/ai/advanced/inference/smart``: the inference service picks the model
(``SelectModel``: capability = ``model_type``, ``priority`` = performance | cost | balanced, from
measured latency and model size), then the prompt runs on it like ``/api/ai/inference``. The body
is 003's inference response plus ``routing``: the model chosen, why, and every candidate.

A model with the ``chat`` capability gets the prompt as one user message (through its chat
template, as instruct models expect); any other model gets it as raw text.

``context`` (task complexity, response format) is echoed but does not steer the choice: nothing
here measures how a model copes with either, so it is not pretended.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.auterity.inference import Parameters, _body
from gateway.request_id import request_id_of
from gateway.textgen import generate
from meshserve.v1 import inference_pb2 as pb
from services.common.errors import InvalidInput

router = dialect_router("auterity", "auterity advanced")

PRIORITIES = {
    "balanced": pb.ROUTING_PRIORITY_BALANCED,
    "performance": pb.ROUTING_PRIORITY_PERFORMANCE,
    "cost": pb.ROUTING_PRIORITY_COST,
}


class SmartRequest(BaseModel):
    """003's smart inference body (``parameters`` as ``/api/ai/inference`` takes them)."""

    model_type: str = Field("text-generation", description="Capability the model must have.")
    prompt: str = Field(..., min_length=1, description="Input text.")
    priority: str = Field("balanced", description='"performance", "cost" or "balanced".')
    context: dict[str, Any] = Field(default_factory=dict, description="Echoed; does not steer the choice.")
    parameters: Parameters = Field(default_factory=Parameters)


def candidate_body(c: pb.ModelCandidate) -> dict[str, Any]:
    """One candidate with the facts the choice used."""
    return {
        "model_id": c.model_name,
        "source": c.source,
        "size_bytes": c.size_bytes,
        "loaded": c.loaded,
        "latency_p50_ms": c.latency_p50_ms if c.HasField("latency_p50_ms") else None,
        "requests": c.requests,
        "capabilities": list(c.capabilities),
    }


@router.post(
    "/api/ai/advanced/inference/smart",
    summary="Inference on the model chosen for the task and priority (document 003)",
)
async def smart_inference(body: SmartRequest, request: Request, clients: Clients) -> JSONResponse:
    """Selects, then generates; the response says which model and why."""
    priority = PRIORITIES.get(body.priority.strip().lower())
    if priority is None:
        raise InvalidInput(
            f"priority {body.priority!r} is not one of {', '.join(PRIORITIES)}",
            details={"field": "priority", "provided": body.priority, "allowed": list(PRIORITIES)},
        )
    decision = await clients.call(
        clients.inference.SelectModel,
        pb.SelectModelRequest(capability=body.model_type, priority=priority),
        idempotent=True,
    )
    chosen = next((c for c in decision.candidates if c.model_name == decision.model_name), None)
    chat = chosen is not None and "chat" in chosen.capabilities
    result = await generate(
        clients,
        body.parameters.request(
            decision.model_name,
            prompt="" if chat else body.prompt,
            messages=[("user", body.prompt)] if chat else None,
        ),
    )
    reply = _body(result, request_id_of(request))
    reply["routing"] = {
        "model_type": body.model_type,
        "priority": body.priority.strip().lower(),
        "selected_model": decision.model_name,
        "reason": decision.reason,
        "prompt_format": "chat" if chat else "raw",
        "candidates": [candidate_body(c) for c in decision.candidates],
        "context": body.context,
        "context_applied": False,
    }
    return JSONResponse(reply)
