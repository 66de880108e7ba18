"""The Responses API's objects: a whole ``response`` (its ``output`` items: one assistant message
with an ``output_text`` part, or the function calls the model made), and the typed SSE events a
streamed one is told in (``response.created`` … ``response.output_text.delta`` …
``response.completed``), each numbered by ``sequence_number`` and named in its ``event:`` line."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from gateway.textgen import FINISH_NAMES, Choice, Completion, Generation
from meshserve.v1 import inference_pb2 as pb
from services.common.errors import MeshError


def output_text(text: str) -> dict[str, Any]:
    """An ``output_text`` content part."""
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def function_call(call: pb.ToolCall, status: str = "completed") -> dict[str, Any]:
    """A ``function_call`` output item (its arguments empty while in progress)."""
    arguments = call.arguments_json if status == "completed" else ""
    return {
        "type": "function_call",
        "id": f"fc_{call.id}",
        "call_id": call.id,
        "name": call.name,
        "arguments": arguments,
        "status": status,
    }


def usage_of(prompt: int, completion: int, cached: int) -> dict[str, Any]:
    """The Responses API's usage."""
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }


def status_of(finish_reason: str) -> tuple[str, dict[str, str] | None]:
    """A response's status, and why it is incomplete (cut at ``max_output_tokens``)."""
    if finish_reason == "length":
        return "incomplete", {"reason": "max_output_tokens"}
    return "completed", None


def _conversation(named: Any) -> dict[str, Any] | None:
    """``conversation`` as the response tells it: ``{"id": …}`` or null."""
    if isinstance(named, str):
        return {"id": named}
    return named if isinstance(named, dict) else None


def new_response_id() -> str:
    """A fresh response id (``resp_`` and 32 hex digits)."""
    return f"resp_{uuid.uuid4().hex}"


class ResponseRenderer:
    """Renders one generation as a response: ``request`` is the body as sent (its settings are
    echoed back, as OpenAI does). A response's message item is ``msg_`` and the response's hex."""

    def __init__(self, response_id: str, created_at: int, model: str, request: dict[str, Any]) -> None:
        self.id = response_id
        self.message_id = f"msg_{response_id.removeprefix('resp_')}"
        self.created_at = created_at or int(time.time())
        self.model = model
        self.request = request
        self.sequence = 0

    @classmethod
    def of_stored(cls, record: pb.StoredGeneration) -> ResponseRenderer:
        """The renderer of a stored response (its settings are the annotations it was stored with)."""
        annotations = json.loads(record.annotations_json) if record.annotations_json else {}
        return cls(record.id, record.created, record.model_name, annotations)

    def stored(self, record: pb.StoredGeneration) -> dict[str, Any]:
        """The stored response, as it was answered."""
        usage = record.usage
        return self.finished(
            record.output.content,
            list(record.output.tool_calls),
            FINISH_NAMES.get(record.finish_reason, "stop"),
            usage_of(usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens),
        )

    def envelope(
        self,
        status: str,
        output: list[dict[str, Any]],
        usage: dict[str, Any] | None = None,
        incomplete: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The ``response`` object."""
        asked = self.request
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "error": None,
            "incomplete_details": incomplete,
            "instructions": asked.get("instructions"),
            "max_output_tokens": asked.get("max_output_tokens"),
            "model": self.model,
            "output": output,
            "parallel_tool_calls": asked.get("parallel_tool_calls", True),
            "previous_response_id": asked.get("previous_response_id"),
            "conversation": _conversation(asked.get("conversation")),
            "store": asked.get("store", True),
            "temperature": asked.get("temperature", 1.0),
            "text": {"format": (asked.get("text") or {}).get("format") or {"type": "text"}},
            "tool_choice": asked.get("tool_choice", "auto"),
            "tools": asked.get("tools", []),
            "top_p": asked.get("top_p", 1.0),
            "truncation": asked.get("truncation", "disabled"),
            "usage": usage,
            "user": asked.get("user"),
            "metadata": asked.get("metadata", {}),
        }

    def message(self, text: str, status: str = "completed") -> dict[str, Any]:
        """The assistant message item (no content yet while in progress)."""
        content = [output_text(text)] if status == "completed" else []
        return {
            "type": "message",
            "id": self.message_id,
            "status": status,
            "role": "assistant",
            "content": content,
        }

    def whole(self, completion: Completion) -> dict[str, Any]:
        """The response to a whole generation."""
        choice = completion.choices[0] if completion.choices else Choice(0)
        usage = usage_of(completion.prompt_tokens, completion.completion_tokens, completion.cached_tokens)
        return self.finished(choice.text, choice.tool_calls, choice.finish_reason, usage)

    def finished(
        self, text: str, tool_calls: list[pb.ToolCall], finish_reason: str, usage: dict[str, Any]
    ) -> dict[str, Any]:
        """The response once the reply ended: its function calls, or its message."""
        output = [function_call(call) for call in tool_calls] if tool_calls else [self.message(text)]
        status, incomplete = status_of(finish_reason)
        return self.envelope(status, output, usage, incomplete)

    def event(self, kind: str, **fields: Any) -> bytes:
        """One SSE event: its type in the ``event:`` line and in the data, numbered."""
        data = {"type": kind, **fields, "sequence_number": self.sequence}
        self.sequence += 1
        return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()

    def error_events(self, error: MeshError) -> list[bytes]:
        """An error after the stream started, as the Responses API streams it."""
        return [
            self.event(
                "error", code=error.code.lower(), message=error.message, param=error.details.get("field")
            )
        ]

    async def events(self, stream: Generation) -> AsyncIterator[bytes]:
        """The events of a streamed generation, ``response.created`` to ``response.completed`` (or
        ``response.incomplete``)."""
        yield self.event("response.created", response=self.envelope("in_progress", []))
        yield self.event("response.in_progress", response=self.envelope("in_progress", []))
        parts: list[str] = []
        opened = False
        async for chunk in stream:
            if chunk.text:
                if not opened:
                    for frame in self._open_message():
                        yield frame
                    opened = True
                parts.append(chunk.text)
                place = {"item_id": self.message_id, "output_index": 0, "content_index": 0}
                yield self.event("response.output_text.delta", **place, delta=chunk.text, logprobs=[])
            if not chunk.finish_reason:
                continue
            if chunk.tool_calls:  # a reply held whole (tools active): the calls, never text
                output = [function_call(call) for call in chunk.tool_calls]
                for index, call in enumerate(chunk.tool_calls):
                    for frame in self._call(index, call):
                        yield frame
            else:
                if not opened:
                    for frame in self._open_message():
                        yield frame
                output = [self.message("".join(parts))]
                for frame in self._close_message("".join(parts)):
                    yield frame
            status, incomplete = status_of(FINISH_NAMES.get(chunk.finish_reason, "stop"))
            usage = usage_of(
                chunk.usage.prompt_tokens, chunk.usage.completion_tokens, chunk.usage.cached_tokens
            )
            kind = "response.completed" if status == "completed" else "response.incomplete"
            yield self.event(kind, response=self.envelope(status, output, usage, incomplete))

    def _open_message(self) -> Iterator[bytes]:
        yield self.event("response.output_item.added", output_index=0, item=self.message("", "in_progress"))
        place = {"item_id": self.message_id, "output_index": 0, "content_index": 0}
        yield self.event("response.content_part.added", **place, part=output_text(""))

    def _close_message(self, text: str) -> Iterator[bytes]:
        place = {"item_id": self.message_id, "output_index": 0, "content_index": 0}
        yield self.event("response.output_text.done", **place, text=text, logprobs=[])
        yield self.event("response.content_part.done", **place, part=output_text(text))
        yield self.event("response.output_item.done", output_index=0, item=self.message(text))

    def _call(self, index: int, call: pb.ToolCall) -> Iterator[bytes]:
        item_id = f"fc_{call.id}"
        yield self.event(
            "response.output_item.added", output_index=index, item=function_call(call, "in_progress")
        )
        place = {"item_id": item_id, "output_index": index}
        yield self.event("response.function_call_arguments.delta", **place, delta=call.arguments_json)
        yield self.event("response.function_call_arguments.done", **place, arguments=call.arguments_json)
        yield self.event("response.output_item.done", output_index=index, item=function_call(call))


def input_items(record: pb.StoredGeneration) -> list[dict[str, Any]]:
    """Every item the model read for a stored response, oldest first (its instructions aside): the
    continued responses' input and output, then its own input. Ids are the response's hex and the
    item's place (a function call keeps its ``fc_`` id)."""
    hex_id = record.id.removeprefix("resp_")
    items: list[dict[str, Any]] = []
    for message in [*record.history, *record.input]:
        if message.tool_calls:
            items.extend(function_call(call) for call in message.tool_calls)
        else:
            kind = "fco" if message.role == "tool" else "msg"
            items.append(item_of(message, f"{kind}_{hex_id}_{len(items)}"))
    return items


def item_of(message: pb.ChatMessage, item_id: str) -> dict[str, Any]:
    """One item: a message, a function call (an assistant message's first call), or its output."""
    if message.tool_calls:
        return {**function_call(message.tool_calls[0]), "id": item_id}
    if message.role == "tool":
        return {
            "type": "function_call_output",
            "id": item_id,
            "call_id": message.tool_call_id,
            "output": message.content,
            "status": "completed",
        }
    part = (
        output_text(message.content)
        if message.role == "assistant"
        else {"type": "input_text", "text": message.content}
    )
    return {"type": "message", "id": item_id, "role": message.role, "status": "completed", "content": [part]}
