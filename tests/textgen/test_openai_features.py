"""OpenAI features through the official ``openai`` client: n choices, logprobs, structured output.

Each is checked against something independent of the mesh: a solo run of the same request, the
reference llama.cpp's own distribution for the same prompt, and a JSON Schema validator.
"""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import jsonschema
import openai
import pytest

from tests.procs import Mesh
from tests.textgen.conftest import QUESTION, openai_error_param

pytestmark = pytest.mark.slow

MESSAGES = [{"role": "user", "content": QUESTION}]
CITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 1, "maxLength": 24},
        "country": {"type": "string", "enum": ["France", "Germany", "Italy", "Spain"]},
        "population_millions": {"type": "integer", "minimum": 0, "maximum": 50},
        "is_capital": {"type": "boolean"},
    },
    "required": ["city", "country", "population_millions", "is_capital"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def client(llm_mesh: Mesh) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{llm_mesh.base_url}/v1", api_key="unused", max_retries=0, timeout=300)


def test_n_greedy_choices_each_equal_a_solo_run(client: openai.OpenAI) -> None:
    solo = client.chat.completions.create(model="default", messages=MESSAGES, temperature=0, max_tokens=24)
    reply = client.chat.completions.create(
        model="default", messages=MESSAGES, temperature=0, max_tokens=24, n=3
    )
    assert [c.index for c in reply.choices] == [0, 1, 2]
    assert [c.message.content for c in reply.choices] == [solo.choices[0].message.content] * 3
    assert [c.finish_reason for c in reply.choices] == [solo.choices[0].finish_reason] * 3
    # The prompt is counted once, the completion tokens of every choice.
    assert reply.usage.prompt_tokens == solo.usage.prompt_tokens
    assert reply.usage.completion_tokens == 3 * solo.usage.completion_tokens


def test_n_streams_every_choice_and_sampled_choices_differ(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="default",
        messages=[{"role": "user", "content": "Write one short sentence about the sea."}],
        temperature=1.0,
        seed=11,
        max_tokens=20,
        n=4,
        stream=True,
        stream_options={"include_usage": True},
    )
    texts: dict[int, str] = {}
    finished: list[int] = []
    usage = None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
            if choice.finish_reason:
                finished.append(choice.index)
    assert sorted(finished) == [0, 1, 2, 3]
    assert len(set(texts.values())) > 1, texts  # consecutive seeds: the choices differ
    assert usage is not None and usage.completion_tokens >= 4


def test_legacy_completions_take_n(client: openai.OpenAI) -> None:
    prompt = "The capital of France is"
    reply = client.completions.create(model="default", prompt=prompt, temperature=0, max_tokens=6, n=2)
    assert len(reply.choices) == 2 and reply.choices[0].text == reply.choices[1].text


def test_top_logprobs_match_llama_cpp_distribution(client: openai.OpenAI, llama_reference: Any) -> None:
    reply = client.chat.completions.create(
        model="default", messages=MESSAGES, temperature=0, max_tokens=8, logprobs=True, top_logprobs=5
    )
    content = reply.choices[0].logprobs.content
    assert len(content) == reply.usage.completion_tokens
    assert "".join(t.token for t in content) == reply.choices[0].message.content
    reference = llama_reference.create_chat_completion(
        MESSAGES, temperature=0.0, max_tokens=8, repeat_penalty=1.0, seed=0, logprobs=True, top_logprobs=5
    )
    expected = reference["choices"][0]["logprobs"]["content"]
    assert [t.token for t in content] == [t["token"] for t in expected]
    for ours, theirs in zip(content, expected, strict=True):
        assert len(ours.top_logprobs) == 5
        assert ours.top_logprobs[0].token == ours.token  # greedy took the most likely token
        assert math.isclose(ours.logprob, theirs["logprob"], abs_tol=2e-3)
        assert [a.token for a in ours.top_logprobs] == [a["token"] for a in theirs["top_logprobs"]]
        for a, b in zip(ours.top_logprobs, theirs["top_logprobs"], strict=True):
            assert math.isclose(a.logprob, b["logprob"], abs_tol=2e-3)
        assert bytes(ours.bytes) == ours.token.encode()
    probabilities = [math.exp(a.logprob) for a in content[0].top_logprobs]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0 + 1e-6


def test_streamed_logprobs_cover_every_token(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="default",
        messages=MESSAGES,
        temperature=0,
        max_tokens=12,
        logprobs=True,
        top_logprobs=2,
        stream=True,
    )
    tokens, text = [], ""
    for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
            if choice.logprobs and choice.logprobs.content:
                tokens.extend(choice.logprobs.content)
    assert "".join(t.token for t in tokens) == text
    assert all(len(t.top_logprobs) == 2 for t in tokens)


def test_legacy_completion_logprobs(client: openai.OpenAI) -> None:
    reply = client.completions.create(
        model="default", prompt="The capital of France is", temperature=0, max_tokens=5, logprobs=3
    )
    logprobs = reply.choices[0].logprobs
    assert "".join(logprobs.tokens) == reply.choices[0].text
    assert len(logprobs.token_logprobs) == len(logprobs.tokens) == len(logprobs.top_logprobs)
    assert all(len(top) == 3 for top in logprobs.top_logprobs)
    assert logprobs.text_offset[0] == 0 and logprobs.text_offset[1] == len(logprobs.tokens[0])


def test_json_schema_validates_on_every_sample(client: openai.OpenAI) -> None:
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "city", "schema": CITY_SCHEMA, "strict": True},
    }
    documents = []
    for attempt in range(4):  # 20 samples: 4 requests of n=5 at temperature 1
        reply = client.chat.completions.create(
            model="default",
            messages=[{"role": "user", "content": "Describe Paris as JSON."}],
            temperature=1.0,
            seed=100 + attempt,
            max_tokens=96,
            n=5,
            response_format=response_format,  # type: ignore[arg-type]
        )
        for choice in reply.choices:
            assert choice.finish_reason == "stop", choice.message.content
            documents.append(json.loads(choice.message.content))
    assert len(documents) == 20
    for document in documents:
        jsonschema.validate(document, CITY_SCHEMA)


def test_json_object_is_an_object(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="default",
        messages=[{"role": "user", "content": 'Reply with a JSON object: "name" Tom, "age" 3.'}],
        temperature=0,
        max_tokens=200,
        response_format={"type": "json_object"},
    )
    assert reply.choices[0].finish_reason == "stop", reply.choices[0].message.content
    assert isinstance(json.loads(reply.choices[0].message.content), dict)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"n": 9}, "n"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        (
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "x", "schema": {"type": "nonsense"}},
                }
            },
            "response_format.json_schema.schema",
        ),
    ],
)
def test_bad_feature_requests_are_openai_errors(llm_mesh: Mesh, body: dict[str, Any], field: str) -> None:
    request = {"messages": MESSAGES, "max_tokens": 4, **body}
    assert openai_error_param(llm_mesh, "/v1/chat/completions", request) == field


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "maxLength": 30},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The local time in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "maxLength": 30}},
            "required": ["city"],
        },
    },
}
WEATHER_QUESTION = [{"role": "user", "content": "What is the weather like in Paris?"}]


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_required_tool_call_arguments_validate(client: openai.OpenAI, temperature: float) -> None:
    reply = client.chat.completions.create(
        model="default",
        messages=WEATHER_QUESTION,  # type: ignore[arg-type]
        tools=[WEATHER, TIME],  # type: ignore[list-item]
        tool_choice="required",
        temperature=temperature,
        seed=5,
        max_tokens=80,
        n=3,
    )
    for choice in reply.choices:
        assert choice.finish_reason == "tool_calls" and choice.message.content is None
        (call,) = choice.message.tool_calls
        assert call.type == "function" and call.id.startswith("call_")
        tool = {"get_weather": WEATHER, "get_time": TIME}[call.function.name]
        jsonschema.validate(json.loads(call.function.arguments), tool["function"]["parameters"])


def test_named_tool_is_called_and_streamed(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="default",
        messages=WEATHER_QUESTION,  # type: ignore[arg-type]
        tools=[WEATHER, TIME],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "get_time"}},
        temperature=0,
        max_tokens=60,
        stream=True,
    )
    calls, finishes = [], []
    for chunk in stream:
        for choice in chunk.choices:
            calls.extend(choice.delta.tool_calls or [])
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    assert finishes == ["tool_calls"]
    (call,) = calls
    assert call.index == 0 and call.function.name == "get_time"
    jsonschema.validate(json.loads(call.function.arguments), TIME["function"]["parameters"])


def test_tool_results_are_fed_back(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(
        model="default",
        messages=WEATHER_QUESTION,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="required",
        temperature=0,
        max_tokens=60,
    )
    call = first.choices[0].message.tool_calls[0]
    conversation = [
        *WEATHER_QUESTION,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"temperature": 18, "sky": "sunny"}'},
    ]
    answer = client.chat.completions.create(
        model="default",
        messages=conversation,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="none",
        temperature=0,
        max_tokens=40,
    )
    assert answer.choices[0].finish_reason in ("stop", "length")
    assert answer.choices[0].message.content and not answer.choices[0].message.tool_calls


def test_unknown_named_tool_is_an_openai_error(llm_mesh: Mesh) -> None:
    reply = httpx.post(
        f"{llm_mesh.base_url}/v1/chat/completions",
        json={
            "messages": WEATHER_QUESTION,
            "tools": [WEATHER],
            "tool_choice": {"type": "function", "function": {"name": "launch_rocket"}},
        },
        timeout=60,
    )
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["param"] == "tool_choice.function.name"


def test_streamed_json_schema_validates(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="default",
        messages=[{"role": "user", "content": "Describe Rome as JSON."}],
        temperature=1.0,
        seed=7,
        max_tokens=96,
        stream=True,
        response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": CITY_SCHEMA}},  # type: ignore[typeddict-item]
    )
    text, finish = "", None
    for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
    assert finish == "stop"
    jsonschema.validate(json.loads(text), CITY_SCHEMA)
