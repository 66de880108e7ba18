"""Stored responses of the Responses API through the official client: a response reads back as it
was answered (whole or streamed), ``previous_response_id`` continues it exactly as sending the whole
conversation would (its instructions not carried over), input items list what the model read, a
deleted or unstored response is gone, and over gRPC only the caller who stored one can see it."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import openai
import pytest

from meshserve.v1 import inference_pb2 as pb
from tests.procs import Mesh
from tests.textgen.conftest import QUESTION, WEATHER

pytestmark = pytest.mark.slow

FOLLOW_UP = "And which river flows through it?"


@pytest.fixture(scope="module")
def client(llm_mesh: Mesh) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{llm_mesh.base_url}/v1", api_key="unused", max_retries=0, timeout=300)


def _said(item: Any) -> tuple[str, str]:
    """A message item's role and text."""
    return str(item.role), str(item.content[0].text)


def _dump(response: Any) -> dict[str, Any]:
    data: dict[str, Any] = response.model_dump(mode="json", exclude_none=False)
    return data


def test_a_stored_response_reads_back_as_it_was_answered(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model="default",
        instructions="Answer briefly.",
        input=QUESTION,
        temperature=0,
        max_output_tokens=12,
        metadata={"topic": "geography"},
    )
    assert response.store is True
    stored = client.responses.retrieve(response.id)
    assert _dump(stored) == _dump(response)
    assert stored.metadata == {"topic": "geography"} and stored.instructions == "Answer briefly."
    items = client.responses.input_items.list(response.id, order="asc")
    assert [(i.type, *_said(i)) for i in items.data] == [("message", "user", QUESTION)]


def test_a_streamed_response_is_stored_as_its_final_event_tells(client: openai.OpenAI) -> None:
    events = list(
        client.responses.create(
            model="default", input=QUESTION, temperature=0, max_output_tokens=12, stream=True
        )
    )
    final = events[-1]
    assert final.type in ("response.completed", "response.incomplete")
    stored = client.responses.retrieve(final.response.id)
    assert _dump(stored) == _dump(final.response)


def test_a_continuation_equals_sending_the_whole_conversation(client: openai.OpenAI, llm_mesh: Mesh) -> None:
    first = client.responses.create(
        model="default", instructions="Answer in French.", input=QUESTION, temperature=0, max_output_tokens=12
    )
    second = client.responses.create(
        model="default",
        previous_response_id=first.id,
        input=FOLLOW_UP,
        temperature=0,
        max_output_tokens=12,
    )
    assert second.previous_response_id == first.id
    # The same conversation sent whole, without the first turn's instructions (not carried over).
    whole = client.responses.create(
        model="default",
        input=[
            {"role": "user", "content": QUESTION},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": first.output_text}],
            },
            {"role": "user", "content": FOLLOW_UP},
        ],
        temperature=0,
        max_output_tokens=12,
        store=False,
    )
    assert second.output_text == whole.output_text
    assert second.usage is not None and whole.usage is not None
    assert second.usage.input_tokens == whole.usage.input_tokens
    texts = [_said(i) for i in client.responses.input_items.list(second.id, order="asc").data]
    assert texts == [("user", QUESTION), ("assistant", first.output_text), ("user", FOLLOW_UP)]
    newest = client.responses.input_items.list(second.id, limit=2)
    assert [i.id for i in newest.data] == [
        t.id for t in reversed(client.responses.input_items.list(second.id, order="asc").data)
    ][:2]
    assert newest.has_more is True
    rest = client.responses.input_items.list(second.id, limit=2, after=newest.data[-1].id)
    assert len(rest.data) == 1 and rest.has_more is False


def test_a_function_call_output_continues_the_stored_call(client: openai.OpenAI) -> None:
    asked = "What is the weather in Paris?"
    calling = client.responses.create(
        model="default", input=asked, tools=[WEATHER], tool_choice="required", temperature=0
    )
    call = calling.output[0]
    assert call.type == "function_call"
    result: Any = {"type": "function_call_output", "call_id": call.call_id, "output": '{"sky": "sunny"}'}
    answer = client.responses.create(
        model="default",
        previous_response_id=calling.id,
        input=[result],
        tools=[WEATHER],
        temperature=0,
        max_output_tokens=16,
    )
    conversation: Any = [
        {"role": "user", "content": asked},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        result,
    ]
    whole = client.responses.create(
        model="default",
        input=conversation,
        tools=[WEATHER],
        temperature=0,
        max_output_tokens=16,
        store=False,
    )
    assert answer.output_text == whole.output_text
    items: list[Any] = client.responses.input_items.list(answer.id, order="asc").data
    assert [i.type for i in items] == ["message", "function_call", "function_call_output"]
    assert items[1].call_id == items[2].call_id == call.call_id


def test_unstored_and_deleted_responses_are_gone(client: openai.OpenAI, llm_mesh: Mesh) -> None:
    unstored = client.responses.create(
        model="default", input=QUESTION, temperature=0, max_output_tokens=4, store=False
    )
    assert unstored.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(unstored.id)
    kept = client.responses.create(model="default", input=QUESTION, temperature=0, max_output_tokens=4)
    deleted = httpx.delete(f"{llm_mesh.base_url}/v1/responses/{kept.id}", timeout=30)
    assert deleted.status_code == 200 and deleted.json() == {
        "id": kept.id,
        "object": "response",
        "deleted": True,
    }
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(kept.id)
    again = httpx.delete(f"{llm_mesh.base_url}/v1/responses/{kept.id}", timeout=30)
    assert again.status_code == 404 and again.json()["error"]["type"] == "invalid_request_error"
    continued = httpx.post(
        f"{llm_mesh.base_url}/v1/responses",
        json={"model": "default", "input": FOLLOW_UP, "previous_response_id": kept.id},
        timeout=60,
    )
    assert continued.status_code == 404, continued.text
    assert continued.json()["error"]["param"] == "previous_response_id"


def _generate(stub: Any, caller: str, **fields: Any) -> list[pb.GenerateResponse]:
    request = pb.GenerateRequest(
        messages=[pb.ChatMessage(role="user", content=QUESTION)],
        sampling=pb.SamplingParams(temperature=0, max_tokens=4),
        **fields,
    )
    return list(stub.Generate(request, metadata=(("x-meshserve-user", caller),), timeout=120))


def _stored(stub: Any, caller: str, generation_id: str) -> pb.StoredGeneration:
    request = pb.GetStoredGenerationRequest(id=generation_id)
    reply = stub.GetStoredGeneration(request, metadata=(("x-meshserve-user", caller),), timeout=30)
    generation: pb.StoredGeneration = reply.generation
    return generation


def test_only_the_caller_who_stored_a_generation_sees_it(inference_stub: Any) -> None:
    replies = _generate(inference_stub, "alice", store_id="gen-owned-by-alice")
    text = "".join(r.text for r in replies)
    mine = _stored(inference_stub, "alice", "gen-owned-by-alice")
    assert mine.output.content == text and mine.output.role == "assistant"
    assert [m.content for m in mine.input] == [QUESTION] and mine.usage.completion_tokens > 0
    for call in (
        lambda: _stored(inference_stub, "bob", "gen-owned-by-alice"),
        lambda: inference_stub.DeleteStoredGeneration(
            pb.DeleteStoredGenerationRequest(id="gen-owned-by-alice"), metadata=(("x-meshserve-user", "bob"),)
        ),
        lambda: _generate(inference_stub, "bob", previous_generation_id="gen-owned-by-alice"),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as taken:  # an id is used once, whoever asks
        _generate(inference_stub, "bob", store_id="gen-owned-by-alice")
    assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS
    still = _stored(inference_stub, "alice", "gen-owned-by-alice")
    assert still.output.content == text


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"store_id": "x" * 129}, "store_id"),
        ({"store_id": "gen-bad-annotations", "store_annotations_json": "{"}, "store_annotations_json"),
        ({"store_id": "gen-bad-count", "instruction_messages": 2}, "instruction_messages"),
        ({"truncate_history": True, "instruction_messages": -1}, "instruction_messages"),
    ],
)
def test_bad_store_requests_are_refused_naming_the_field(
    inference_stub: Any, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        _generate(inference_stub, "alice", **fields)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (caught.value.details() or "")
