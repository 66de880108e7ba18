"""Conversations: items in order, which generations continue and add to (the Responses API's
``conversation``, in canonical terms).

An item is a message, one tool call, or a tool's output, kept as its ChatMessage. A ``Generate``
call with ``conversation_id`` reads the conversation's items after its own instructions, and once
its first choice has ended appends its own messages and the reply (a reply of several tool calls
is one item per call), in one transaction. Only the caller who created a conversation may read,
change, continue or delete it; to anyone else it does not exist. Rows live in the inference store
(SQLite, or PostgreSQL shared by every replica), where appends to one conversation take turns.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterable

from google.protobuf import json_format

from meshserve.v1 import inference_pb2 as pb
from services.common.errors import InvalidInput, NotFound
from services.inference.jobs.store import SqlJobStore

#: Items one call may add (OpenAI's limit on creating a conversation and adding items).
MAX_ITEMS_PER_CALL = 20
#: OpenAI's metadata limits.
MAX_METADATA_KEYS, MAX_KEY_LENGTH, MAX_VALUE_LENGTH = 16, 64, 512
#: Items one page lists at most, and by default.
MAX_PAGE, DEFAULT_PAGE = 100, 20


def items_of(messages: Iterable[pb.ChatMessage]) -> list[pb.ConversationItem]:
    """Messages as new items: a message with several tool calls becomes one item per call."""
    items = []
    for message in messages:
        for one in _split(message):
            kind = "fc" if one.tool_calls else "fco" if one.role == "tool" else "msg"
            items.append(pb.ConversationItem(id=f"{kind}_{uuid.uuid4().hex}", message=one))
    return items


def _split(message: pb.ChatMessage) -> list[pb.ChatMessage]:
    if len(message.tool_calls) <= 1:
        return [message]
    return [pb.ChatMessage(role=message.role, tool_calls=[call]) for call in message.tool_calls]


def _check_metadata(metadata: dict[str, str]) -> None:
    if len(metadata) > MAX_METADATA_KEYS:
        raise InvalidInput(
            f"metadata has {len(metadata)} keys; at most {MAX_METADATA_KEYS}", details={"field": "metadata"}
        )
    for key, value in metadata.items():
        if len(key) > MAX_KEY_LENGTH or len(value) > MAX_VALUE_LENGTH:
            raise InvalidInput(
                f"metadata key {key[:80]!r}: keys hold at most {MAX_KEY_LENGTH} characters, values"
                f" {MAX_VALUE_LENGTH}",
                details={"field": f"metadata.{key[:64]}"},
            )


def _check_count(items: list[pb.ChatMessage]) -> None:
    if len(items) > MAX_ITEMS_PER_CALL:
        raise InvalidInput(
            f"{len(items)} items; at most {MAX_ITEMS_PER_CALL} at once", details={"field": "items"}
        )


def _missing(what: str, ident: str, field_name: str) -> NotFound:
    return NotFound(
        f"no {what} {ident!r}",
        details={"field": field_name, "id": ident},
        suggestion=f"use the id of a {what} this caller created",
    )


class ConversationStore:
    """The ``conversations`` and ``conversation_items`` tables of the inference store."""

    def __init__(self, db: SqlJobStore) -> None:
        self.db = db
        # PostgreSQL: an append locks its conversation's row, so appends to one take turns (SQLite's
        # write transactions already do).
        self._lock_row = " FOR UPDATE" if db.shared else ""

    def create(
        self, owner: str, metadata: dict[str, str], items: list[pb.ConversationItem]
    ) -> pb.Conversation:
        """A new conversation with its first items."""
        conversation = pb.Conversation(
            id=f"conv_{uuid.uuid4().hex}", created=int(time.time()), metadata=metadata
        )
        with self.db.transaction():
            self.db.run(
                "INSERT INTO conversations (id, owner, created_at, metadata) VALUES (?, ?, ?, ?)",
                (conversation.id, owner, float(conversation.created), json.dumps(metadata)),
            )
            self._append(conversation.id, items)
        return conversation

    def get(self, owner: str, conversation_id: str) -> pb.Conversation | None:
        """The owner's conversation, if any."""
        row = self.db.run(
            "SELECT id, created_at, metadata FROM conversations WHERE id = ? AND owner = ?",
            (conversation_id, owner),
        ).fetchone()
        if row is None:
            return None
        return pb.Conversation(id=row[0], created=int(row[1]), metadata=json.loads(row[2]))

    def update(self, owner: str, conversation_id: str, metadata: dict[str, str]) -> bool:
        """Replaces the metadata; whether the owner has that conversation."""
        cursor = self.db.run(
            "UPDATE conversations SET metadata = ? WHERE id = ? AND owner = ?",
            (json.dumps(metadata), conversation_id, owner),
        )
        return bool(cursor.rowcount)

    def delete(self, owner: str, conversation_id: str) -> bool:
        """Deletes the conversation and its items; whether the owner had it."""
        with self.db.transaction():
            cursor = self.db.run(
                "DELETE FROM conversations WHERE id = ? AND owner = ?", (conversation_id, owner)
            )
            if not cursor.rowcount:
                return False
            self.db.run("DELETE FROM conversation_items WHERE conversation_id = ?", (conversation_id,))
            return True

    def items(self, conversation_id: str) -> list[pb.ConversationItem]:
        """Every item, oldest first (the caller checked the owner)."""
        rows = self.db.run(
            "SELECT item_id, message FROM conversation_items WHERE conversation_id = ? ORDER BY seq",
            (conversation_id,),
        ).fetchall()
        return [pb.ConversationItem(id=r[0], message=json_format.Parse(r[1], pb.ChatMessage())) for r in rows]

    def append(self, owner: str, conversation_id: str, items: list[pb.ConversationItem]) -> bool:
        """Appends items in one transaction; whether the owner has that conversation."""
        with self.db.transaction():
            found = self.db.run(
                f"SELECT id FROM conversations WHERE id = ? AND owner = ?{self._lock_row}",
                (conversation_id, owner),
            ).fetchone()
            if found is None:
                return False
            self._append(conversation_id, items)
            return True

    def delete_item(self, conversation_id: str, item_id: str) -> bool:
        """Deletes one item (the caller checked the owner); whether it was there."""
        cursor = self.db.run(
            "DELETE FROM conversation_items WHERE conversation_id = ? AND item_id = ?",
            (conversation_id, item_id),
        )
        return bool(cursor.rowcount)

    def _append(self, conversation_id: str, items: list[pb.ConversationItem]) -> None:
        row = self.db.run(
            "SELECT COALESCE(MAX(seq), 0) FROM conversation_items WHERE conversation_id = ?",
            (conversation_id,),
        ).fetchone()
        for seq, item in enumerate(items, start=int(row[0]) + 1):
            self.db.run(
                "INSERT INTO conversation_items (conversation_id, seq, item_id, message) VALUES (?, ?, ?, ?)",
                (conversation_id, seq, item.id, json_format.MessageToJson(item.message, indent=None)),
            )


class Conversations:
    """The caller's conversations: what the gRPC calls and ``Generate`` ask of them."""

    def __init__(self, store: ConversationStore) -> None:
        self.store = store

    async def create(
        self, owner: str, metadata: dict[str, str], messages: list[pb.ChatMessage]
    ) -> pb.Conversation:
        """Starts a conversation."""
        _check_metadata(metadata)
        _check_count(messages)
        return await asyncio.to_thread(self.store.create, owner, metadata, items_of(messages))

    async def get(self, owner: str, conversation_id: str, field_name: str = "id") -> pb.Conversation:
        """The owner's conversation (NotFound naming ``field_name`` when there is none)."""
        found = await asyncio.to_thread(self.store.get, owner, conversation_id)
        if found is None:
            raise _missing("conversation", conversation_id, field_name)
        return found

    async def update(self, owner: str, conversation_id: str, metadata: dict[str, str]) -> pb.Conversation:
        """Replaces the metadata."""
        _check_metadata(metadata)
        if not await asyncio.to_thread(self.store.update, owner, conversation_id, metadata):
            raise _missing("conversation", conversation_id, "id")
        return await self.get(owner, conversation_id)

    async def delete(self, owner: str, conversation_id: str) -> None:
        """Deletes a conversation and its items."""
        if not await asyncio.to_thread(self.store.delete, owner, conversation_id):
            raise _missing("conversation", conversation_id, "id")

    async def items(
        self, owner: str, conversation_id: str, field_name: str = "id"
    ) -> list[pb.ConversationItem]:
        """Every item of the owner's conversation, oldest first."""
        await self.get(owner, conversation_id, field_name)
        return await asyncio.to_thread(self.store.items, conversation_id)

    async def page(
        self, owner: str, request: pb.ListConversationItemsRequest
    ) -> tuple[list[pb.ConversationItem], bool]:
        """A page of items, in the order asked for, after the item ``after`` names."""
        if not 0 <= request.limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be 1 to {MAX_PAGE}", details={"field": "limit"})
        items = await self.items(owner, request.conversation_id, "conversation_id")
        if request.newest_first:
            items.reverse()
        if request.after:
            ids = [item.id for item in items]
            if request.after not in ids:
                raise InvalidInput(
                    f"no item {request.after!r} in this conversation", details={"field": "after"}
                )
            items = items[ids.index(request.after) + 1 :]
        limit = request.limit or DEFAULT_PAGE
        return items[:limit], len(items) > limit

    async def add(
        self, owner: str, conversation_id: str, messages: list[pb.ChatMessage]
    ) -> list[pb.ConversationItem]:
        """Appends items."""
        _check_count(messages)
        items = items_of(messages)
        if not await asyncio.to_thread(self.store.append, owner, conversation_id, items):
            raise _missing("conversation", conversation_id, "conversation_id")
        return items

    async def item(self, owner: str, conversation_id: str, item_id: str) -> pb.ConversationItem:
        """One item."""
        for item in await self.items(owner, conversation_id, "conversation_id"):
            if item.id == item_id:
                return item
        raise _missing("item", item_id, "item_id")

    async def delete_item(self, owner: str, conversation_id: str, item_id: str) -> pb.Conversation:
        """Deletes one item; the conversation it was in."""
        conversation = await self.get(owner, conversation_id, "conversation_id")
        if not await asyncio.to_thread(self.store.delete_item, conversation_id, item_id):
            raise _missing("item", item_id, "item_id")
        return conversation

    async def append(self, owner: str, conversation_id: str, messages: list[pb.ChatMessage]) -> None:
        """Appends a turn (its messages and reply) that ``Generate`` ran."""
        if not await asyncio.to_thread(self.store.append, owner, conversation_id, items_of(messages)):
            raise _missing("conversation", conversation_id, "conversation_id")
