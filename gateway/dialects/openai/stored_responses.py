"""The Responses API's stored responses: ``GET /v1/responses/{response_id}``, ``DELETE`` of it and
``GET /v1/responses/{response_id}/input_items``, over ``InferenceService.GetStoredGeneration`` and
``DeleteStoredGeneration``. A caller sees only the responses it stored."""

from __future__ import annotations

from typing import Any

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.openai.paging import After, Limit, Order, page_of
from gateway.dialects.openai.response_objects import ResponseRenderer, input_items
from meshserve.v1 import inference_pb2 as pb

router = dialect_router("openai", "openai")


async def _stored(clients: Clients, response_id: str) -> pb.StoredGeneration:
    request = pb.GetStoredGenerationRequest(id=response_id)
    reply = await clients.call(clients.inference.GetStoredGeneration, request, idempotent=True)
    generation: pb.StoredGeneration = reply.generation
    return generation


@router.get("/v1/responses/{response_id}", summary="Stored response")
async def get_response(response_id: str, clients: Clients) -> dict[str, Any]:
    """A stored response, as it was answered."""
    record = await _stored(clients, response_id)
    return ResponseRenderer.of_stored(record).stored(record)


@router.delete("/v1/responses/{response_id}", summary="Delete a stored response")
async def delete_response(response_id: str, clients: Clients) -> dict[str, Any]:
    """Deletes a stored response; it can no longer be read or continued."""
    await clients.call(
        clients.inference.DeleteStoredGeneration, pb.DeleteStoredGenerationRequest(id=response_id)
    )
    return {"id": response_id, "object": "response", "deleted": True}


@router.get("/v1/responses/{response_id}/input_items", summary="A stored response's input items")
async def list_input_items(
    response_id: str, clients: Clients, limit: Limit = 20, order: Order = "desc", after: After = None
) -> dict[str, Any]:
    """Every item the model read for the response (instructions aside), a page at a time."""
    return page_of(input_items(await _stored(clients, response_id)), limit, order, after)
