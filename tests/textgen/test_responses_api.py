"""OpenAI's Responses API through the official client: the same generation as the chat completion
of the same conversation, streamed as its typed events, function calls and their outputs, a JSON
Schema format; what is not supported, and other bad input, is an OpenAI error naming the field."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import openai
import pytest

from tests.procs import Mesh
from tests.textgen.conftest import QUESTION, WEATHER, greedy_chat, openai_error_param

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(llm_mesh: Mesh) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{llm_mesh.base_url}/v1", api_key="unused", max_retries=0, timeout=300)


def test_a_response_is_the_chat_completion_of_the_same_conversation(
    client: openai.OpenAI, llm_mesh: Mesh
) -> None:
    response = client.responses.create(model="default", input=QUESTION, temperature=0, max_output_tokens=12)
    chat = greedy_chat(llm_mesh, "default", QUESTION, 12)
    assert response.output_text == chat["choices"][0]["message"]["content"]
    assert response.object == "response" and response.id.startswith("resp_") and response.store is True
    assert response.usage is not None and response.usage.input_tokens == chat["usage"]["prompt_tokens"]
    assert response.usage.output_tokens == chat["usage"]["completion_tokens"]
    if chat["choices"][0]["finish_reason"] == "length":
        assert response.status == "incomplete" and response.incomplete_details is not None
        assert response.incomplete_details.reason == "max_output_tokens"
    else:
        assert response.status == "completed"
    message = response.output[0]
    assert message.type == "message" and message.role == "assistant"


def test_instructions_and_items_make_the_same_conversation(client: openai.OpenAI, llm_mesh: Mesh) -> None:
    items: Any = [
        {"role": "user", "content": "Say one word."},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Paris"}]},
        {"role": "user", "content": [{"type": "input_text", "text": QUESTION}]},
    ]
    response = client.responses.create(
        model="default", instructions="Answer briefly.", input=items, temperature=0, max_output_tokens=10
    )
    messages = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Say one word."},
        {"role": "assistant", "content": "Paris"},
        {"role": "user", "content": QUESTION},
    ]
    chat = openai.OpenAI(base_url=f"{llm_mesh.base_url}/v1", api_key="unused").chat.completions.create(
        model="default",
        messages=messages,
        temperature=0,
        max_tokens=10,
    )
    assert response.output_text == chat.choices[0].message.content


def test_a_stream_tells_the_same_response_in_typed_events(client: openai.OpenAI) -> None:
    whole = client.responses.create(model="default", input=QUESTION, temperature=0, max_output_tokens=12)
    events = list(
        client.responses.create(
            model="default", input=QUESTION, temperature=0, max_output_tokens=12, stream=True
        )
    )
    kinds = [e.type for e in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:-1] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ]
    assert kinds[-1] in ("response.completed", "response.incomplete")
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == whole.output_text
    final = events[-1].response
    assert final.output_text == whole.output_text and final.usage is not None and whole.usage is not None
    # (the second run finds the prompt in the engine's cache: only cached_tokens may differ)
    assert (final.usage.input_tokens, final.usage.output_tokens) == (
        whole.usage.input_tokens,
        whole.usage.output_tokens,
    )


def test_a_required_function_call_and_its_output_continue_the_conversation(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model="default",
        input="What is the weather in Paris?",
        tools=[WEATHER],
        tool_choice="required",
        temperature=0,  # sampled arguments could run past the default max_output_tokens
    )
    call = response.output[0]
    assert call.type == "function_call" and call.name == "get_weather" and call.call_id
    jsonschema.validate(json.loads(call.arguments), WEATHER["parameters"])
    items: Any = [
        {"role": "user", "content": "What is the weather in Paris?"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {
            "type": "function_call_output",
            "call_id": call.call_id,
            "output": '{"sky": "sunny", "celsius": 21}',
        },
    ]
    answer = client.responses.create(model="default", input=items, tools=[WEATHER], max_output_tokens=24)
    assert answer.output[0].type == "message" and answer.output_text
    streamed = list(
        client.responses.create(
            model="default",
            input="Weather in Rome?",
            tools=[WEATHER],
            tool_choice="required",
            temperature=0,
            stream=True,
        )
    )
    done = [e for e in streamed if e.type == "response.function_call_arguments.done"]
    assert len(done) == 1 and json.loads(done[0].arguments)["city"]


def test_a_json_schema_format_validates(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string", "maxLength": 20}},
        "required": ["city"],
        "additionalProperties": False,
    }
    response = client.responses.create(
        model="default",
        input="Name the capital of France as JSON.",
        text={"format": {"type": "json_schema", "name": "city", "schema": schema}},
        max_output_tokens=40,
    )
    jsonschema.validate(json.loads(response.output_text), schema)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"background": True}, "background"),
        ({"tools": [{"type": "web_search", "name": "search"}]}, "tools[0].type"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]},
            "input[0].content",
        ),
        ({"input": [{"type": "function_call_output", "output": "{}"}]}, "input[0].call_id"),
        ({"max_output_tokens": 0}, "max_output_tokens"),
        ({"text": {"format": {"type": "json_schema", "name": "x"}}}, "text.format.schema"),
        ({"input": 5}, "input"),
    ],
)
def test_bad_requests_are_openai_errors_naming_the_field(
    llm_mesh: Mesh, body: dict[str, Any], field: str
) -> None:
    assert openai_error_param(llm_mesh, "/v1/responses", {"input": QUESTION, **body}) == field
