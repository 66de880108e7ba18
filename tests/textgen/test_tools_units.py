"""Tool calling's transport-free rules: validation, the prompt, the grammar and reading a call."""

from __future__ import annotations

import json

import pytest

from services.common.errors import InvalidInput
from services.inference.llm.tools import ToolCall, ToolSpec, ToolUse, render_calls
from services.inference.plugins.base import Message

WEATHER = ToolSpec(
    "get_weather", "Weather in a city.", {"type": "object", "properties": {"city": {"type": "string"}}}
)
TIME = ToolSpec("get_time", "", None)


def test_checks_name_the_field_at_fault() -> None:
    with pytest.raises(InvalidInput) as caught:
        ToolUse((WEATHER,), "sometimes").check()
    assert caught.value.details["field"] == "tool_choice"
    with pytest.raises(InvalidInput) as caught:
        ToolUse((WEATHER, WEATHER)).check()
    assert caught.value.details["field"] == "tools[1].function.name"
    with pytest.raises(InvalidInput) as caught:
        ToolUse((WEATHER,), "function", "nope").check()
    assert caught.value.details == {
        "field": "tool_choice.function.name",
        "provided": "nope",
        "allowed": ["get_weather"],
    }
    with pytest.raises(InvalidInput):
        ToolUse((), "required").check()
    ToolUse((WEATHER, TIME), "function", "get_time").check()


@pytest.mark.parametrize("choice", ["auto", "required"])
def test_a_tool_s_name_and_schema_are_checked_whatever_the_choice(choice: str) -> None:
    spaced = ToolSpec("get weather!", "", None)
    with pytest.raises(InvalidInput, match="1 to 64 letters") as caught:
        ToolUse((WEATHER, spaced), choice).check()
    assert caught.value.details["field"] == "tools[1].function.name"
    broken = ToolSpec("broken", "", {"type": "objekt"})
    with pytest.raises(InvalidInput, match="objekt") as caught:
        ToolUse((WEATHER, broken), choice).check()
    # It named response_format.json_schema.schema, which the request did not send.
    assert caught.value.details == {"field": "tools[1].function.parameters"}


def test_the_tools_join_the_system_message() -> None:
    use = ToolUse((WEATHER,))
    question = (Message("user", "Weather in Paris?"),)
    (system, user) = use.messages(question)
    assert system.role == "system" and "get_weather" in system.content and "Otherwise" in system.content
    assert user == question[0]
    merged = use.messages((Message("system", "Be brief."), *question))
    assert merged[0].content.startswith("Be brief.\n\n") and len(merged) == 2
    assert ToolUse((WEATHER,), "none").messages(question) == question


def test_a_required_call_is_decoded_under_a_grammar() -> None:
    assert ToolUse((WEATHER,)).response_format() is None  # auto: free text
    named = ToolUse((WEATHER, TIME), "function", "get_time").response_format()
    assert named is not None and named["schema"]["properties"]["name"] == {"const": "get_time"}
    assert named["schema"]["properties"]["arguments"] == {"type": "object"}  # no schema: any object
    required = ToolUse((WEATHER, TIME), "required").response_format()
    assert required is not None and len(required["schema"]["anyOf"]) == 2


def test_reading_a_call() -> None:
    use = ToolUse((WEATHER,))
    call = use.call_in(' {"name": "get_weather", "arguments": {"city": "Paris"}} ')
    assert call is not None and call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    assert use.call_in("Sunny in Paris.") is None
    assert use.call_in('{"name": "launch", "arguments": {}}') is None
    assert use.call_in('{"name": "get_weather", "arguments": "x"}') is None
    rendered = render_calls([ToolCall("c1", "get_weather", '{"city": "Paris"}')])
    assert json.loads(rendered) == {"name": "get_weather", "arguments": {"city": "Paris"}}
