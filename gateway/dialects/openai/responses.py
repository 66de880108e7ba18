"""OpenAI ``POST /v1/responses`` (``client.responses.create``): the Responses API over the same
generation pipeline as chat completions, whole or streamed as its typed SSE events.

A response is stored unless ``store`` is false (the inference service's stored generations, shared
by its replicas), and ``previous_response_id`` continues a stored one: the model reads this
request's ``instructions``, the stored conversation with its reply, then this ``input``. A
``conversation`` is continued the same way, and the turn is added to it. Reading and deleting
stored responses is :mod:`gateway.dialects.openai.stored_responses`, conversations
:mod:`gateway.dialects.openai.conversations`. ``background`` runs are refused (400). Input items are
messages (text content parts), ``function_call`` and ``function_call_output``; tools are
``function`` tools. The rendering of what comes back is :mod:`gateway.dialects.openai.response_objects`.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from gateway.deps import Clients
from gateway.dialects.envelope import fields_named
from gateway.dialects.openai.chat import CANONICAL_ROLES
from gateway.dialects.openai.response_objects import ResponseRenderer, new_response_id
from gateway.dialects.openai.shapes import tool_of
from gateway.request_id import request_id_of
from gateway.textgen import collect, generate_request, open_stream, sse_response, streaming_post
from meshserve.v1 import inference_pb2 as pb
from services.common.errors import InvalidInput

router = APIRouter(tags=["openai"])

#: Content part types that carry text, in input messages (an assistant's earlier output included).
TEXT_PARTS = ("input_text", "output_text", "text")


class ContentPart(BaseModel):
    """One part of an input message's content."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class InputItem(BaseModel):
    """One item of ``input``: a message, an earlier function call, or its output."""

    model_config = ConfigDict(extra="allow")

    type: Literal["message", "function_call", "function_call_output"] = "message"
    role: str | None = None
    content: str | list[ContentPart] | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | None = None


class FunctionTool(BaseModel):
    """A ``function`` tool (the Responses API's flat form)."""

    model_config = ConfigDict(extra="allow")

    type: str = "function"
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: StrictBool | None = None


class TextFormat(BaseModel):
    """``text.format``: ``text``, ``json_object``, or ``json_schema`` with its ``schema``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: Literal["text", "json_object", "json_schema"] = "text"
    name: str | None = None
    json_schema: dict[str, Any] | None = Field(None, alias="schema")
    strict: StrictBool | None = None


class TextConfig(BaseModel):
    """``text``: the output's format."""

    model_config = ConfigDict(extra="allow")

    format: TextFormat | None = None


class ConversationRef(BaseModel):
    """``conversation`` as an object."""

    id: str


class ResponseRequest(BaseModel):
    """Body of ``POST /v1/responses``."""

    model_config = ConfigDict(extra="allow")

    model: str = Field("default", description="Model id; 'default' picks the bundled model.")
    input: str | list[InputItem] = Field(..., description="A text, or the conversation's items.")
    instructions: str | None = Field(None, description="A system message put before the input.")
    max_output_tokens: StrictInt | None = Field(None, description="Tokens to generate at most.")
    temperature: StrictFloat | None = Field(None, description="0 to 2; 0 is greedy.")
    top_p: StrictFloat | None = Field(None, description="Nucleus sampling mass, (0, 1].")
    tools: list[FunctionTool] | None = Field(None, description="Function tools the model may call.")
    tool_choice: str | dict[str, Any] | None = Field(
        None, description='"auto" (default), "none", "required" or {"type": "function", "name": …}.'
    )
    text: TextConfig | None = Field(None, description="The output's format.")
    stream: StrictBool = Field(False, description="Stream the Responses API's typed SSE events.")
    user: str | None = Field(None, max_length=256, description="The end user it is for (A/B arms).")
    metadata: dict[str, str] | None = Field(None, description="Echoed back on the response.")
    store: StrictBool = Field(True, description="Keep the response, to read back or continue.")
    previous_response_id: str | None = Field(
        None, max_length=128, description="Continue this stored response's conversation."
    )
    background: StrictBool | None = Field(None, description="Not supported: responses run in the foreground.")
    truncation: Literal["auto", "disabled"] = Field(
        "disabled", description="auto: leave out the oldest items when the input does not fit the context."
    )
    conversation: str | ConversationRef | None = Field(
        None, description="Continue this conversation (its id, or {id}); the turn is added to it."
    )

    @property
    def conversation_id(self) -> str:
        """The conversation's id, if one is named."""
        if isinstance(self.conversation, ConversationRef):
            return self.conversation.id
        return self.conversation or ""


def messages_of(body: ResponseRequest) -> list[pb.ChatMessage]:
    """The conversation as canonical chat messages: the instructions first, then every input item."""
    messages = [pb.ChatMessage(role="system", content=body.instructions)] if body.instructions else []
    if isinstance(body.input, str):
        return [*messages, pb.ChatMessage(role="user", content=body.input)]
    return [*messages, *input_messages(body.input, "input")]


def input_messages(items: list[InputItem], field: str) -> list[pb.ChatMessage]:
    """Input items (of ``input``, or a conversation's ``items``) as canonical chat messages."""
    messages = []
    for position, item in enumerate(items):
        if item.type == "function_call":
            call = pb.ToolCall(
                id=item.call_id or "", name=item.name or "", arguments_json=item.arguments or "{}"
            )
            messages.append(pb.ChatMessage(role="assistant", tool_calls=[call]))
        elif item.type == "function_call_output":
            if not item.call_id:
                raise InvalidInput(
                    f"{field}[{position}].call_id is required: it names the call this output answers",
                    details={"field": f"{field}[{position}].call_id"},
                )
            messages.append(pb.ChatMessage(role="tool", content=item.output or "", tool_call_id=item.call_id))
        else:
            role = item.role or "user"
            text = _text(f"{field}[{position}]", item)
            messages.append(pb.ChatMessage(role=CANONICAL_ROLES.get(role, role), content=text))
    return messages


def _text(place: str, item: InputItem) -> str:
    """An input message's text: a string, or its text parts."""
    if item.content is None or isinstance(item.content, str):
        return item.content or ""
    for part in item.content:
        if part.type not in TEXT_PARTS:
            raise InvalidInput(
                f"{place}.content has a {part.type!r} part; only text is supported",
                details={"field": f"{place}.content"},
            )
    return "".join(part.text or "" for part in item.content)


def tools_of(body: ResponseRequest) -> tuple[list[pb.Tool], str, str]:
    """The canonical tools, tool_choice and the named function's name."""
    tools = []
    for position, tool in enumerate(body.tools or []):
        if tool.type != "function":
            raise InvalidInput(
                f"tools[{position}] is a {tool.type!r} tool; only function tools are served here",
                details={"field": f"tools[{position}].type"},
            )
        tools.append(tool_of(tool.name, tool.description, tool.parameters))
    choice = body.tool_choice
    if isinstance(choice, dict):
        return tools, "function", str(choice.get("name", ""))
    return tools, choice or "", ""


def format_of(text: TextConfig | None) -> pb.ResponseFormat | None:
    """The canonical constraint of ``text.format``."""
    form = text.format if text is not None else None
    if form is None or form.type == "text":
        return None
    if form.type == "json_object":
        return pb.ResponseFormat(type="json_object")
    if form.json_schema is None:
        raise InvalidInput(
            "text.format.schema is required when text.format.type is json_schema",
            details={"field": "text.format.schema"},
        )
    return pb.ResponseFormat(type="json_schema", schema_json=json.dumps(form.json_schema))


def check_supported(body: ResponseRequest) -> None:
    """Refuses background runs, naming the field."""
    if body.background:
        raise InvalidInput(
            "background is not supported here: responses run while the request waits",
            details={"field": "background"},
            suggestion="send it without background; stream: true tells the response as it is made",
        )


@streaming_post(router, "/v1/responses", "openai_create_response", "Response (Responses API)")
async def create_response(body: ResponseRequest, request: Request, clients: Clients) -> Response:
    """Answers the input; ``stream: true`` answers with the Responses API's SSE events."""
    check_supported(body)
    tools, tool_choice, tool_choice_name = tools_of(body)
    canonical = generate_request(
        model=body.model,
        messages=messages_of(body),
        max_tokens=body.max_output_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        response_format=format_of(body.text),
        tools=tools,
        tool_choice=tool_choice,
        tool_choice_name=tool_choice_name,
        user=body.user,
    )
    response_id = new_response_id()
    settings = body.model_dump(exclude_none=True, by_alias=True, exclude={"input", "stream"})
    if body.store:
        canonical.store_id = response_id
        canonical.store_annotations_json = json.dumps(settings)
    canonical.previous_generation_id = body.previous_response_id or ""
    canonical.conversation_id = body.conversation_id
    canonical.truncate_history = body.truncation == "auto"
    canonical.instruction_messages = 1 if body.instructions else 0
    renamed = {
        "max_tokens": "max_output_tokens",
        "response_format": "text.format",
        "previous_generation_id": "previous_response_id",
        "conversation_id": "conversation",
    }
    with fields_named(renamed):
        stream = await open_stream(clients, canonical)
    renderer = ResponseRenderer(response_id, stream.first.created, stream.first.model_name, settings)
    if not body.stream:
        return JSONResponse(renderer.whole(await collect(stream)))
    return sse_response(stream, renderer.events(stream), renderer.error_events, request_id_of(request))
