"""Tool calling (OpenAI ``tools``) for models whose chat template knows nothing of tools.

The way llama.cpp's server and vLLM serve such models: the tools are described to the model in a
system message, with one calling convention, a JSON object ``{"name": …, "arguments": {…}}``.
When a call is required (``tool_choice`` ``required`` or a named function), decoding is
constrained to that object by the grammar (:mod:`services.inference.llm.grammar`), so the name is
one of the tools and the arguments validate against its schema. With ``auto``, the model decides:
a reply that is such an object naming a known tool becomes a call, anything else stays text.

Earlier calls and their results in the conversation are rendered in the same convention, so a
``role: tool`` message reads as the answer to the call before it. No transport imports.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from services.common.errors import InvalidInput
from services.inference.plugins.base import Message

#: What OpenAI allows as a function name.
TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

CHOICES = ("auto", "none", "required", "function")


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call."""

    name: str
    description: str = ""
    #: JSON Schema of the arguments.
    parameters: Any = None

    @property
    def schema(self) -> dict[str, Any]:
        """The arguments' schema (any object when the tool gave none)."""
        return (
            self.parameters if isinstance(self.parameters, dict) and self.parameters else {"type": "object"}
        )


@dataclass(frozen=True)
class ToolCall:
    """A call of a tool, with its arguments as JSON text."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ToolUse:
    """The tools of a request and how the model must use them."""

    tools: tuple[ToolSpec, ...] = ()
    #: ``auto``, ``none``, ``required`` or ``function`` (then ``name`` says which).
    choice: str = "auto"
    name: str = ""

    @property
    def active(self) -> bool:
        """Whether the model is told of tools and its reply may be a call."""
        return bool(self.tools) and self.choice != "none"

    def check(self) -> None:
        """INVALID_INPUT naming the field at fault."""
        if self.choice not in CHOICES:
            raise InvalidInput(
                f"tool_choice must be one of auto, none, required or a function, got {self.choice!r}",
                details={"field": "tool_choice", "provided": self.choice},
            )
        names = [t.name for t in self.tools]
        for position, tool in enumerate(self.tools):
            if not tool.name or tool.name in names[:position]:
                raise InvalidInput(
                    "each tool needs a name of its own",
                    details={"field": f"tools[{position}].function.name", "provided": tool.name},
                )
            if not TOOL_NAME.fullmatch(tool.name):
                raise InvalidInput(
                    "a tool's name is 1 to 64 letters, digits, '_' or '-', as OpenAI's are",
                    details={"field": f"tools[{position}].function.name", "provided": tool.name[:80]},
                )
            if tool.parameters is not None and not isinstance(tool.parameters, dict):
                raise InvalidInput(
                    "a tool's parameters must be a JSON Schema object",
                    details={"field": f"tools[{position}].function.parameters"},
                )
            _check_schema(tool.schema, f"tools[{position}].function.parameters")
        if self.choice in ("required", "function") and not self.tools:
            raise InvalidInput(
                f"tool_choice {self.choice!r} needs tools",
                details={"field": "tool_choice", "provided": self.choice},
            )
        if self.choice == "function" and self.name not in names:
            raise InvalidInput(
                f"tool_choice names {self.name!r}, which is not one of the tools",
                details={"field": "tool_choice.function.name", "provided": self.name, "allowed": names},
            )

    def messages(self, messages: tuple[Message, ...]) -> tuple[Message, ...]:
        """The conversation with the tools described in its system message."""
        if not self.active:
            return messages
        described = "\n".join(
            f"- {t.name}: {t.description or 'no description'} Arguments: {json.dumps(t.schema)}"
            for t in self.tools
        )
        instruction = (
            "You can call these functions:\n"
            f"{described}\n"
            'To call one, reply with only a JSON object: {"name": <function name>, "arguments": <object>}.'
        )
        if self.choice == "auto":
            instruction += " Otherwise, answer normally."
        if messages and messages[0].role == "system":
            return (Message("system", f"{messages[0].content}\n\n{instruction}"), *messages[1:])
        return (Message("system", instruction), *messages)

    def response_format(self) -> dict[str, Any] | None:
        """The grammar a required call is decoded under (None when the model may answer in text)."""
        if not self.active or self.choice == "auto":
            return None
        tools = [t for t in self.tools if self.choice == "required" or t.name == self.name]
        options = [
            {
                "type": "object",
                "properties": {"name": {"const": t.name}, "arguments": t.schema},
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
            for t in tools
        ]
        schema = options[0] if len(options) == 1 else {"anyOf": options}
        return {"type": "json_schema", "schema": schema}

    def call_in(self, text: str) -> ToolCall | None:
        """The call a reply makes: a JSON object naming one of the tools (None for plain text)."""
        try:
            value = json.loads(text.strip())
        except ValueError:
            return None
        if not isinstance(value, dict) or set(value) != {"name", "arguments"}:
            return None
        if value["name"] not in {t.name for t in self.tools} or not isinstance(value["arguments"], dict):
            return None
        return ToolCall(f"call_{uuid.uuid4().hex[:24]}", value["name"], json.dumps(value["arguments"]))


def _check_schema(schema: dict[str, Any], field: str) -> None:
    """INVALID_INPUT naming ``field`` when llguidance, which decodes a call's arguments under the
    schema, cannot compile it (checked for every tool, whichever tool_choice: a call may follow)."""
    from llguidance import LLMatcher

    try:
        problem = LLMatcher.validate_grammar(LLMatcher.grammar_from_json_schema(json.dumps(schema)), None)
    except ValueError as error:
        problem = str(error)
    if problem:
        raise InvalidInput(
            f"a tool's parameters are not a JSON Schema that can constrain decoding: {problem}",
            details={"field": field},
        )


def render_calls(calls: list[ToolCall]) -> str:
    """An assistant message's earlier calls, as the model was told to write them."""
    rendered = [json.dumps({"name": c.name, "arguments": _parsed(c.arguments)}) for c in calls]
    return "\n".join(rendered)


def _parsed(arguments: str) -> Any:
    try:
        return json.loads(arguments) if arguments else {}
    except ValueError:
        return arguments
