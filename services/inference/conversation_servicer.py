"""gRPC face of conversations: the InferenceService calls on them, translated to
:class:`~services.inference.conversations.Conversations` for the calling owner."""

from __future__ import annotations

import grpc

from meshserve.v1 import inference_pb2 as pb
from services.common.context import caller_var
from services.inference.conversations import Conversations


class ConversationServicer:
    """Create, read, update and delete conversations and their items, as the caller."""

    def __init__(self, conversations: Conversations) -> None:
        self.conversations = conversations

    async def CreateConversation(
        self, request: pb.CreateConversationRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateConversationResponse:
        """Starts a conversation."""
        created = await self.conversations.create(
            caller_var.get(), dict(request.metadata), list(request.items)
        )
        return pb.CreateConversationResponse(conversation=created)

    async def GetConversation(
        self, request: pb.GetConversationRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetConversationResponse:
        """A conversation."""
        return pb.GetConversationResponse(
            conversation=await self.conversations.get(caller_var.get(), request.id)
        )

    async def UpdateConversation(
        self, request: pb.UpdateConversationRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateConversationResponse:
        """Replaces a conversation's metadata."""
        updated = await self.conversations.update(caller_var.get(), request.id, dict(request.metadata))
        return pb.UpdateConversationResponse(conversation=updated)

    async def DeleteConversation(
        self, request: pb.DeleteConversationRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteConversationResponse:
        """Deletes a conversation and its items."""
        await self.conversations.delete(caller_var.get(), request.id)
        return pb.DeleteConversationResponse(id=request.id)

    async def ListConversationItems(
        self, request: pb.ListConversationItemsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListConversationItemsResponse:
        """A page of a conversation's items."""
        items, more = await self.conversations.page(caller_var.get(), request)
        return pb.ListConversationItemsResponse(items=items, has_more=more)

    async def AddConversationItems(
        self, request: pb.AddConversationItemsRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddConversationItemsResponse:
        """Appends items."""
        added = await self.conversations.add(caller_var.get(), request.conversation_id, list(request.items))
        return pb.AddConversationItemsResponse(items=added)

    async def GetConversationItem(
        self, request: pb.GetConversationItemRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetConversationItemResponse:
        """One item."""
        item = await self.conversations.item(caller_var.get(), request.conversation_id, request.item_id)
        return pb.GetConversationItemResponse(item=item)

    async def DeleteConversationItem(
        self, request: pb.DeleteConversationItemRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteConversationItemResponse:
        """Deletes one item."""
        conversation = await self.conversations.delete_item(
            caller_var.get(), request.conversation_id, request.item_id
        )
        return pb.DeleteConversationItemResponse(conversation=conversation)
