"""Stored generations: a generation kept under an id, to be read back or continued (the Responses
API's ``store`` and ``previous_response_id``, in canonical terms).

A ``Generate`` call with ``store_id`` keeps, once its first choice has ended, a
:class:`~meshserve.v1.inference_pb2.StoredGeneration`: this turn's instructions, the conversation
before it, its own messages and the reply. One with ``previous_generation_id`` is answered as if it
had sent that conversation and reply itself, after its own instructions (a stored turn's
instructions are not carried over, as the Responses API specifies). Only the caller who stored a
generation may read, continue or delete it; to anyone else it does not exist.

Records live in the inference store (SQLite, or PostgreSQL shared by every replica), one row each,
the message as protobuf JSON; they are kept ``stored_generation_days`` and purged as new ones come.
A generation that fails or is cancelled before its first choice ends stores nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

from google.protobuf import json_format

from meshserve.v1 import inference_pb2 as pb
from services.common.context import caller_var
from services.common.errors import AlreadyExists, InvalidInput, NotFound, NotImplementedYet
from services.inference.conversations import Conversations
from services.inference.jobs.store import SqlJobStore

#: Longest id a generation may be stored under.
MAX_ID_LENGTH = 128
#: Largest ``store_annotations_json`` kept.
MAX_ANNOTATIONS_BYTES = 64 * 1024


class StoredGenerationStore:
    """The ``stored_generations`` table of the inference store."""

    def __init__(self, db: SqlJobStore, keep_seconds: float) -> None:
        self.db = db
        self.keep_seconds = keep_seconds

    def put(self, owner: str, record: pb.StoredGeneration) -> bool:
        """Stores a record (and purges expired ones); False when its id is taken."""
        with self.db.transaction():
            self.db.run(
                "DELETE FROM stored_generations WHERE created_at < ?", (time.time() - self.keep_seconds,)
            )
            cursor = self.db.run(
                "INSERT INTO stored_generations (id, owner, created_at, record) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (id) DO NOTHING",
                (record.id, owner, float(record.created), json_format.MessageToJson(record, indent=None)),
            )
            return bool(cursor.rowcount)

    def get(self, owner: str, generation_id: str) -> pb.StoredGeneration | None:
        """The owner's unexpired record with that id, if any."""
        row = self.db.run(
            "SELECT record FROM stored_generations WHERE id = ? AND owner = ? AND created_at >= ?",
            (generation_id, owner, time.time() - self.keep_seconds),
        ).fetchone()
        return json_format.Parse(row[0], pb.StoredGeneration()) if row else None

    def exists(self, generation_id: str) -> bool:
        """Whether any record, of any owner, has that id."""
        row = self.db.run("SELECT 1 FROM stored_generations WHERE id = ?", (generation_id,)).fetchone()
        return row is not None

    def delete(self, owner: str, generation_id: str) -> bool:
        """Deletes the owner's record; whether there was one."""
        cursor = self.db.run(
            "DELETE FROM stored_generations WHERE id = ? AND owner = ?", (generation_id, owner)
        )
        return bool(cursor.rowcount)


def _missing(generation_id: str, field_name: str) -> NotFound:
    return NotFound(
        f"nothing is stored under {generation_id!r}",
        details={"field": field_name, "id": generation_id},
        suggestion="use an id this caller stored (with store on) within the retention period",
    )


@dataclass
class Recording:
    """What a generation's first choice has said so far, kept once it ends: stored under
    ``record.id`` when that is set, and appended to ``conversation_id`` when that is."""

    store: StoredGenerationStore
    owner: str
    record: pb.StoredGeneration
    conversations: Conversations | None = None
    conversation_id: str = ""
    parts: list[str] = field(default_factory=list)

    def observe(self, reply: pb.GenerateResponse) -> bool:
        """Notes a reply of the generation; True when it ends the first choice (keep it now)."""
        if reply.choice != 0:
            return False
        if not self.parts and reply.created:  # stored as created when the reply began, as answered
            self.record.created = reply.created
        self.parts.append(reply.text)
        if not reply.finish_reason:
            return False
        output = self.record.output
        output.role = "assistant"
        output.content = "".join(self.parts)
        output.tool_calls.extend(reply.tool_calls)
        self.record.model_name = reply.model_name
        self.record.finish_reason = reply.finish_reason
        self.record.usage.CopyFrom(reply.usage)
        return True

    async def save(self) -> None:
        """Stores the record (AlreadyExists when its id was taken meanwhile) and appends the turn to
        its conversation."""
        if self.record.id and not await asyncio.to_thread(self.store.put, self.owner, self.record):
            raise _taken(self.record.id)
        if self.conversations is not None and self.conversation_id:
            turn = [*self.record.input, self.record.output]
            await self.conversations.append(self.owner, self.conversation_id, turn)


def keeping_fields(request: pb.GenerateRequest) -> list[str]:
    """The fields of a request that store it or continue earlier turns (none: a plain generation)."""
    names = ("store_id", "previous_generation_id", "conversation_id")
    return [name for name in names if getattr(request, name)]


def instruction_count(request: pb.GenerateRequest) -> int:
    """How many of the request's first messages are instructions (INVALID_INPUT when more than
    there are, or negative)."""
    count = request.instruction_messages
    if not 0 <= count <= len(request.messages):
        raise InvalidInput(
            f"instruction_messages must be 0 to {len(request.messages)}",
            details={"field": "instruction_messages"},
        )
    return count


def _taken(generation_id: str) -> AlreadyExists:
    return AlreadyExists(
        f"store_id {generation_id!r} is already used", details={"field": "store_id", "id": generation_id}
    )


class StoredGenerations:
    """Prepares ``Generate`` requests that store, continue a stored generation or continue a
    conversation, and serves the stored records."""

    def __init__(self, store: StoredGenerationStore, conversations: Conversations | None = None) -> None:
        self.store = store
        self.conversations = conversations

    async def prepare(self, request: pb.GenerateRequest) -> tuple[pb.GenerateRequest, Recording | None]:
        """The request the pipeline runs (the earlier turns in place) and, when its reply is to be
        kept (stored, or added to its conversation), its recording."""
        asked = keeping_fields(request)
        if not asked:
            return request, None
        if not request.messages:
            raise InvalidInput(
                f"{asked[0]} needs a conversation (messages), not a prompt", details={"field": asked[0]}
            )
        if request.previous_generation_id and request.conversation_id:
            raise InvalidInput(
                "continue a stored generation or a conversation, not both",
                details={"field": "previous_generation_id"},
            )
        count = instruction_count(request)
        owner = caller_var.get()
        instructions, own = list(request.messages[:count]), list(request.messages[count:])
        history = await self._history(owner, request)
        run = pb.GenerateRequest()
        run.CopyFrom(request)
        del run.messages[:]
        run.messages.extend([*instructions, *history, *own])
        record = self._record(request, instructions, history, own)
        taken = bool(request.store_id) and await asyncio.to_thread(self.store.exists, record.id)
        if taken:
            raise _taken(record.id)  # checked before generating; the insert checks again
        return run, Recording(self.store, owner, record, self.conversations, request.conversation_id)

    async def _history(self, owner: str, request: pb.GenerateRequest) -> list[pb.ChatMessage]:
        """The earlier turns a request continues."""
        if request.previous_generation_id:
            previous = await self.get(request.previous_generation_id, "previous_generation_id")
            return [*previous.history, *previous.input, previous.output]
        if request.conversation_id:
            if self.conversations is None:
                raise NotImplementedYet("this inference service keeps no conversations")
            items = await self.conversations.items(owner, request.conversation_id, "conversation_id")
            return [item.message for item in items]
        return []

    @staticmethod
    def _record(
        request: pb.GenerateRequest,
        instructions: list[pb.ChatMessage],
        history: list[pb.ChatMessage],
        own: list[pb.ChatMessage],
    ) -> pb.StoredGeneration:
        if len(request.store_id) > MAX_ID_LENGTH:
            raise InvalidInput(
                f"store_id is longer than {MAX_ID_LENGTH} characters", details={"field": "store_id"}
            )
        annotations = request.store_annotations_json
        if annotations:
            if len(annotations.encode()) > MAX_ANNOTATIONS_BYTES:
                raise InvalidInput(
                    f"store_annotations_json is over {MAX_ANNOTATIONS_BYTES} bytes",
                    details={"field": "store_annotations_json"},
                )
            try:
                json.loads(annotations)
            except ValueError as error:
                raise InvalidInput(
                    f"store_annotations_json is not JSON: {error}",
                    details={"field": "store_annotations_json"},
                ) from None
        return pb.StoredGeneration(
            id=request.store_id,
            created=int(time.time()),
            previous_generation_id=request.previous_generation_id,
            instructions=instructions,
            history=history,
            input=own,
            annotations_json=annotations,
        )

    async def get(self, generation_id: str, field_name: str = "id") -> pb.StoredGeneration:
        """The caller's stored generation (NotFound naming ``field_name`` when there is none)."""
        found = await asyncio.to_thread(self.store.get, caller_var.get(), generation_id)
        if found is None:
            raise _missing(generation_id, field_name)
        return found

    async def delete(self, generation_id: str) -> None:
        """Deletes the caller's stored generation (NotFound when there is none)."""
        if not await asyncio.to_thread(self.store.delete, caller_var.get(), generation_id):
            raise _missing(generation_id, "id")
