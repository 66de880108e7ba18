"""OpenAI's Conversations API (``client.conversations``): ``/v1/conversations`` and its items, over
the inference service's conversations. A caller sees only the conversations it created; a response
created with ``conversation`` adds its input and output to it (:mod:`.responses`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.openai.paging import After, Limit, Order, item_list
from gateway.dialects.openai.response_objects import item_of
from gateway.dialects.openai.responses import InputItem, input_messages
from meshserve.v1 import inference_pb2 as pb

router = dialect_router("openai", "openai")


class ConversationCreate(BaseModel):
    """Body of ``POST /v1/conversations``."""

    model_config = ConfigDict(extra="allow")

    items: list[InputItem] | None = Field(None, description="Its first items (at most 20).")
    metadata: dict[str, str] | None = Field(None, description="Up to 16 key-value pairs.")


class ConversationUpdate(BaseModel):
    """Body of ``POST /v1/conversations/{conversation_id}``."""

    metadata: dict[str, str] = Field(..., description="The new metadata (replaces the old).")


class ItemsCreate(BaseModel):
    """Body of ``POST /v1/conversations/{conversation_id}/items``."""

    model_config = ConfigDict(extra="allow")

    items: list[InputItem] = Field(..., description="The items to add (at most 20).")


def conversation_body(conversation: pb.Conversation) -> dict[str, Any]:
    """A ``conversation`` object."""
    return {
        "id": conversation.id,
        "object": "conversation",
        "created_at": conversation.created,
        "metadata": dict(conversation.metadata),
    }


def _items(items: list[pb.ConversationItem]) -> list[dict[str, Any]]:
    return [item_of(item.message, item.id) for item in items]


@router.post("/v1/conversations", summary="Create a conversation")
async def create_conversation(body: ConversationCreate, clients: Clients) -> dict[str, Any]:
    """Starts a conversation, with up to 20 items."""
    request = pb.CreateConversationRequest(
        metadata=body.metadata or {}, items=input_messages(body.items or [], "items")
    )
    reply = await clients.call(clients.inference.CreateConversation, request)
    return conversation_body(reply.conversation)


@router.get("/v1/conversations/{conversation_id}", summary="A conversation")
async def get_conversation(conversation_id: str, clients: Clients) -> dict[str, Any]:
    """The conversation (its items: ``/items``)."""
    request = pb.GetConversationRequest(id=conversation_id)
    reply = await clients.call(clients.inference.GetConversation, request, idempotent=True)
    return conversation_body(reply.conversation)


@router.post("/v1/conversations/{conversation_id}", summary="Update a conversation")
async def update_conversation(
    conversation_id: str, body: ConversationUpdate, clients: Clients
) -> dict[str, Any]:
    """Replaces the conversation's metadata."""
    request = pb.UpdateConversationRequest(id=conversation_id, metadata=body.metadata)
    reply = await clients.call(clients.inference.UpdateConversation, request, idempotent=True)
    return conversation_body(reply.conversation)


@router.delete("/v1/conversations/{conversation_id}", summary="Delete a conversation")
async def delete_conversation(conversation_id: str, clients: Clients) -> dict[str, Any]:
    """Deletes the conversation and its items."""
    await clients.call(clients.inference.DeleteConversation, pb.DeleteConversationRequest(id=conversation_id))
    return {"id": conversation_id, "object": "conversation.deleted", "deleted": True}


@router.get("/v1/conversations/{conversation_id}/items", summary="A conversation's items")
async def list_items(
    conversation_id: str, clients: Clients, limit: Limit = 20, order: Order = "desc", after: After = None
) -> dict[str, Any]:
    """The conversation's items, a page at a time."""
    request = pb.ListConversationItemsRequest(
        conversation_id=conversation_id, limit=limit, newest_first=order == "desc", after=after or ""
    )
    reply = await clients.call(clients.inference.ListConversationItems, request, idempotent=True)
    return item_list(_items(list(reply.items)), reply.has_more)


@router.post("/v1/conversations/{conversation_id}/items", summary="Add items to a conversation")
async def add_items(conversation_id: str, body: ItemsCreate, clients: Clients) -> dict[str, Any]:
    """Appends up to 20 items; answers them as stored."""
    request = pb.AddConversationItemsRequest(
        conversation_id=conversation_id, items=input_messages(body.items, "items")
    )
    reply = await clients.call(clients.inference.AddConversationItems, request)
    return item_list(_items(list(reply.items)), False)


@router.get("/v1/conversations/{conversation_id}/items/{item_id}", summary="A conversation's item")
async def get_item(conversation_id: str, item_id: str, clients: Clients) -> dict[str, Any]:
    """One item."""
    request = pb.GetConversationItemRequest(conversation_id=conversation_id, item_id=item_id)
    reply = await clients.call(clients.inference.GetConversationItem, request, idempotent=True)
    return item_of(reply.item.message, reply.item.id)


@router.delete("/v1/conversations/{conversation_id}/items/{item_id}", summary="Delete a conversation's item")
async def delete_item(conversation_id: str, item_id: str, clients: Clients) -> dict[str, Any]:
    """Deletes one item; answers the conversation."""
    request = pb.DeleteConversationItemRequest(conversation_id=conversation_id, item_id=item_id)
    reply = await clients.call(clients.inference.DeleteConversationItem, request)
    return conversation_body(reply.conversation)
