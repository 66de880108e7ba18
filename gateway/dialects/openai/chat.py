"""OpenAI ``POST /v1/chat/completions`` (document 002 ``client.chat.completions.create``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from gateway.deps import Clients
from gateway.dialects.openai.replies import answer
from gateway.dialects.openai.shapes import (
    GenerationBody,
    ResponseFormat,
    chat_logprobs,
    response_format_of,
    tool_of,
)
from gateway.textgen import Choice, generate_request, streaming_post
from meshserve.v1 import inference_pb2 as pb
from services.common.errors import InvalidInput

router = APIRouter(tags=["openai"])


class FunctionCall(BaseModel):
    """A call's function: its name and arguments (JSON text)."""

    name: str
    arguments: str = "{}"


class ToolCallIn(BaseModel):
    """A tool call in an earlier assistant message."""

    id: str = ""
    type: Literal["function"] = "function"
    function: FunctionCall


class FunctionSpec(BaseModel):
    """A tool's function: name, description and JSON Schema of its arguments."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None


class ToolSpec(BaseModel):
    """One of ``tools``."""

    type: Literal["function"] = "function"
    function: FunctionSpec


class ChatMessage(BaseModel):
    """One message; content may be a string or a list of text parts."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None


class ChatRequest(GenerationBody):
    """Body of ``POST /v1/chat/completions``."""

    messages: list[ChatMessage] = Field(..., description="The conversation so far.")
    max_completion_tokens: StrictInt | None = Field(None, description="Newer name of max_tokens.")
    logprobs: StrictBool = Field(False, description="Return each generated token's log-probability.")
    top_logprobs: StrictInt | None = Field(
        None, description="With logprobs: alternatives per token, 0 to 20."
    )
    response_format: ResponseFormat | None = Field(
        None, description="json_object or json_schema: the output is constrained to it while decoding."
    )
    tools: list[ToolSpec] | None = Field(None, description="Functions the model may call.")
    tool_choice: str | dict[str, Any] | None = Field(
        None,
        description='"auto" (default), "none", "required" or {"type": "function", "function": {"name": …}}.',
    )


#: OpenAI roles the canonical API names otherwise: ``developer`` is OpenAI's newer name for the
#: instructions that ``system`` carries (its SDKs send it for newer models).
CANONICAL_ROLES = {"developer": "system"}


def message_of(position: int, message: ChatMessage) -> pb.ChatMessage:
    """One OpenAI message as the canonical one."""
    if message.role == "tool" and not message.tool_call_id:  # which call it answers, as OpenAI asks
        raise InvalidInput(
            f"messages[{position}].tool_call_id is required for a tool message",
            details={"field": f"messages[{position}].tool_call_id"},
        )
    return pb.ChatMessage(
        role=CANONICAL_ROLES.get(message.role, message.role),
        content=text_of(position, message),
        tool_calls=[
            pb.ToolCall(id=c.id, name=c.function.name, arguments_json=c.function.arguments)
            for c in message.tool_calls or []
        ],
        tool_call_id=message.tool_call_id or "",
    )


def tools_of(body: ChatRequest) -> tuple[list[pb.Tool], str, str]:
    """The canonical tools, tool_choice and the named function's name."""
    tools = [
        tool_of(t.function.name, t.function.description, t.function.parameters) for t in body.tools or []
    ]
    choice = body.tool_choice
    if isinstance(choice, dict):
        return tools, "function", str((choice.get("function") or {}).get("name", ""))
    return tools, choice or "", ""


def tool_calls_of(calls: list[pb.ToolCall]) -> list[dict[str, Any]]:
    """Calls as OpenAI's ``tool_calls``."""
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments_json}}
        for c in calls
    ]


def text_of(position: int, message: ChatMessage) -> str:
    """A message's text: a string, or the text parts of a content list."""
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    parts = []
    for part in message.content:
        if part.get("type") != "text":
            raise InvalidInput(
                f"messages[{position}].content has a {part.get('type')!r} part; only text is supported",
                details={"field": f"messages[{position}].content"},
            )
        parts.append(str(part.get("text", "")))
    return "".join(parts)


@streaming_post(router, "/v1/chat/completions", "openai_create_chat_completion", "Chat completion")
async def create_chat_completion(body: ChatRequest, request: Request, clients: Clients) -> Any:
    """Answers a conversation; ``stream: true`` answers with SSE chunks."""
    tools, tool_choice, tool_choice_name = tools_of(body)
    canonical = generate_request(
        model=body.model,
        messages=[message_of(i, m) for i, m in enumerate(body.messages)],
        max_tokens=body.max_completion_tokens if body.max_completion_tokens is not None else body.max_tokens,
        logprobs=body.logprobs,
        top_logprobs=body.top_logprobs,
        response_format=response_format_of(body.response_format),
        tools=tools,
        tool_choice=tool_choice,
        tool_choice_name=tool_choice_name,
        **body.sampling(),
    )

    def choice(c: Choice) -> dict[str, Any]:
        return {
            "index": c.index,
            "message": {"role": "assistant", "content": c.text}
            if not c.tool_calls
            else {"role": "assistant", "content": None, "tool_calls": tool_calls_of(c.tool_calls)},
            "logprobs": chat_logprobs(c.logprobs) if body.logprobs else None,
            "finish_reason": c.finish_reason,
        }

    def deltas(chunk: pb.GenerateResponse, finish: str | None) -> Iterator[dict[str, Any]]:
        logprobs = chat_logprobs(chunk.logprobs) if body.logprobs else None
        if chunk.text:
            yield choice_of(chunk.choice, {"content": chunk.text}, logprobs, None)
        if chunk.tool_calls:
            calls = [{"index": i, **call} for i, call in enumerate(tool_calls_of(list(chunk.tool_calls)))]
            yield choice_of(chunk.choice, {"tool_calls": calls}, None, None)
        if finish:
            held = None if chunk.text else logprobs  # tokens whose text a stop sequence cut
            yield choice_of(chunk.choice, {}, held, finish)

    return await answer(
        clients,
        [canonical],
        request,
        body,
        prefix="chatcmpl",
        kind="chat.completion",
        chunk_kind="chat.completion.chunk",
        choice=choice,
        deltas=deltas,
        opening=[choice_of(i, {"role": "assistant", "content": ""}, None, None) for i in range(body.n)],
    )


def choice_of(index: int, delta: dict[str, Any], logprobs: Any, finish: str | None) -> dict[str, Any]:
    """One streamed choice: its index, what it adds, its logprobs and (last) its finish reason."""
    return {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
