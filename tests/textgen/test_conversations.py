"""OpenAI's Conversations API through the official client: a conversation's items are created,
listed a page at a time, read, added and deleted; a response made in a conversation reads its items
(exactly as sending them whole would) and adds its turn to it; another caller cannot see it; bad
input is an OpenAI error naming the field."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import openai
import pytest

from meshserve.v1 import inference_pb2 as pb
from tests.procs import Mesh
from tests.textgen.conftest import QUESTION

pytestmark = pytest.mark.slow

FOLLOW_UP = "And which river flows through it?"


@pytest.fixture(scope="module")
def client(llm_mesh: Mesh) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{llm_mesh.base_url}/v1", api_key="unused", max_retries=0, timeout=300)


def _said(item: Any) -> tuple[str, str, str]:
    return str(item.type), str(item.role), str(item.content[0].text)


def test_a_conversation_and_its_items_are_kept_read_and_deleted(client: openai.OpenAI) -> None:
    first: Any = [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi there."}]
    conversation = client.conversations.create(items=first, metadata={"topic": "greeting"})
    assert conversation.id.startswith("conv_") and conversation.object == "conversation"
    assert client.conversations.retrieve(conversation.id).metadata == {"topic": "greeting"}
    updated = client.conversations.update(conversation.id, metadata={"topic": "geography"})
    assert updated.metadata == {"topic": "geography"}
    more: Any = [{"role": "user", "content": QUESTION}]
    added = client.conversations.items.create(conversation.id, items=more)
    assert [_said(i) for i in added.data] == [("message", "user", QUESTION)]
    oldest = client.conversations.items.list(conversation.id, order="asc")
    assert [_said(i)[1:] for i in oldest.data] == [
        ("user", "Hello"),
        ("assistant", "Hi there."),
        ("user", QUESTION),
    ]
    newest = client.conversations.items.list(conversation.id, limit=2)
    assert [i.id for i in newest.data] == [i.id for i in reversed(oldest.data)][:2] and newest.has_more
    rest = client.conversations.items.list(conversation.id, limit=2, after=newest.data[-1].id)
    assert [i.id for i in rest.data] == [oldest.data[0].id] and not rest.has_more
    one = client.conversations.items.retrieve(oldest.data[1].id, conversation_id=conversation.id)
    assert _said(one) == ("message", "assistant", "Hi there.")
    left = client.conversations.items.delete(oldest.data[1].id, conversation_id=conversation.id)
    assert left.id == conversation.id
    assert len(client.conversations.items.list(conversation.id).data) == 2
    deleted = client.conversations.delete(conversation.id)
    assert deleted.deleted is True and deleted.object == "conversation.deleted"
    with pytest.raises(openai.NotFoundError):
        client.conversations.retrieve(conversation.id)
    with pytest.raises(openai.NotFoundError):
        client.conversations.items.list(conversation.id)


def test_a_response_in_a_conversation_reads_it_and_adds_its_turn(client: openai.OpenAI) -> None:
    conversation = client.conversations.create()
    first = client.responses.create(
        model="default",
        conversation=conversation.id,
        instructions="Answer briefly.",
        input=QUESTION,
        temperature=0,
        max_output_tokens=12,
    )
    assert first.conversation is not None and first.conversation.id == conversation.id
    second = client.responses.create(
        model="default",
        conversation={"id": conversation.id},
        input=FOLLOW_UP,
        temperature=0,
        max_output_tokens=12,
    )
    whole_input: Any = [
        {"role": "user", "content": QUESTION},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": first.output_text}],
        },
        {"role": "user", "content": FOLLOW_UP},
    ]
    whole = client.responses.create(
        model="default", input=whole_input, temperature=0, max_output_tokens=12, store=False
    )
    assert second.output_text == whole.output_text  # the first turn's instructions are not kept
    items = client.conversations.items.list(conversation.id, order="asc").data
    assert [_said(i)[1:] for i in items] == [
        ("user", QUESTION),
        ("assistant", first.output_text),
        ("user", FOLLOW_UP),
        ("assistant", second.output_text),
    ]


def test_a_streamed_response_adds_its_turn_once_it_ended(client: openai.OpenAI) -> None:
    conversation = client.conversations.create()
    events = list(
        client.responses.create(
            model="default",
            conversation=conversation.id,
            input=QUESTION,
            temperature=0,
            max_output_tokens=8,
            stream=True,
        )
    )
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    items = client.conversations.items.list(conversation.id, order="asc").data
    assert [_said(i)[1:] for i in items] == [("user", QUESTION), ("assistant", text)]


def test_another_caller_cannot_see_or_continue_a_conversation(inference_stub: Any) -> None:
    def as_(caller: str) -> tuple[tuple[str, str]]:
        return (("x-meshserve-user", caller),)

    created = inference_stub.CreateConversation(
        pb.CreateConversationRequest(items=[pb.ChatMessage(role="user", content="Hi")]), metadata=as_("alice")
    ).conversation
    mine = inference_stub.ListConversationItems(
        pb.ListConversationItemsRequest(conversation_id=created.id), metadata=as_("alice")
    )
    assert [i.message.content for i in mine.items] == ["Hi"]
    generate = pb.GenerateRequest(
        messages=[pb.ChatMessage(role="user", content=QUESTION)],
        sampling=pb.SamplingParams(temperature=0, max_tokens=2),
        conversation_id=created.id,
    )
    for call in (
        lambda: inference_stub.GetConversation(pb.GetConversationRequest(id=created.id), metadata=as_("bob")),
        lambda: inference_stub.AddConversationItems(
            pb.AddConversationItemsRequest(conversation_id=created.id, items=[pb.ChatMessage(role="user")]),
            metadata=as_("bob"),
        ),
        lambda: inference_stub.DeleteConversation(
            pb.DeleteConversationRequest(id=created.id), metadata=as_("bob")
        ),
        lambda: list(inference_stub.Generate(generate, metadata=as_("bob"), timeout=60)),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    still = inference_stub.ListConversationItems(
        pb.ListConversationItemsRequest(conversation_id=created.id), metadata=as_("alice")
    )
    assert [i.message.content for i in still.items] == ["Hi"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/conversations", {"items": [{"role": "user", "content": "x"}] * 21}, "items"),
        ("/v1/conversations", {"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        (
            "/v1/conversations",
            {"items": [{"type": "function_call_output", "output": "{}"}]},
            "items[0].call_id",
        ),
        (
            "/v1/responses",
            {"input": QUESTION, "conversation": "conv_1", "previous_response_id": "resp_1"},
            "previous_response_id",
        ),
    ],
)
def test_bad_conversation_requests_are_openai_errors_naming_the_field(
    llm_mesh: Mesh, path: str, body: dict[str, Any], field: str
) -> None:
    reply = httpx.post(f"{llm_mesh.base_url}{path}", json=body, timeout=60)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == field, error


def test_an_unknown_conversation_is_a_404_naming_it(llm_mesh: Mesh) -> None:
    reply = httpx.post(
        f"{llm_mesh.base_url}/v1/responses",
        json={"model": "default", "input": QUESTION, "conversation": "conv_nobody"},
        timeout=60,
    )
    assert reply.status_code == 404, reply.text
    assert reply.json()["error"]["param"] == "conversation"
