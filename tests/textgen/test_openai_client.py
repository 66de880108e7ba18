"""Must-show 1: the official ``openai`` package against the gateway's /v1."""

from __future__ import annotations

import openai
import pytest

from tests.procs import Mesh
from tests.textgen.conftest import QUESTION

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(llm_mesh: Mesh) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{llm_mesh.base_url}/v1", api_key="unused", max_retries=0, timeout=120)


def test_chat_completion_mentions_paris_with_usage(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="smollm2-135m-instruct",
        messages=[{"role": "user", "content": QUESTION}],
        temperature=0,
        max_tokens=30,
    )
    assert "Paris" in reply.choices[0].message.content
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.object == "chat.completion" and reply.model == "smollm2-135m-instruct"
    assert reply.usage.prompt_tokens > 10 and reply.usage.completion_tokens > 3
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_a_developer_message_is_the_system_message(client: openai.OpenAI) -> None:
    """OpenAI's newer name for the instructions: the same prompt, so the same greedy answer."""
    asked = {"model": "smollm2-135m-instruct", "temperature": 0, "max_tokens": 12}
    instructions = "Answer in one word."
    answers = [
        client.chat.completions.create(
            messages=[{"role": role, "content": instructions}, {"role": "user", "content": QUESTION}], **asked
        )
        for role in ("system", "developer")
    ]
    assert answers[0].choices[0].message.content == answers[1].choices[0].message.content
    assert answers[0].usage.prompt_tokens == answers[1].usage.prompt_tokens


def test_chat_completion_streaming(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="default",
        messages=[{"role": "user", "content": QUESTION}],
        temperature=0,
        max_tokens=30,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) >= 3, "tokens arrive as separate chunks"
    assert "Paris" in "".join(pieces)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens >= len(pieces)


def test_completion_mentions_paris_with_usage(client: openai.OpenAI) -> None:
    reply = client.completions.create(
        model="smollm2-135m-instruct",
        prompt="Question: What is the capital of France?\nAnswer: The capital of France is",
        temperature=0,
        max_tokens=5,
    )
    assert "Paris" in reply.choices[0].text
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage.prompt_tokens > 5 and 0 < reply.usage.completion_tokens <= 5


def test_completion_streaming_and_length_finish(client: openai.OpenAI) -> None:
    stream = client.completions.create(
        model="default",
        prompt="Question: What is the capital of France?\nAnswer: The capital of France is",
        temperature=0,
        max_tokens=8,
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].text for c in chunks)
    assert "Paris" in text
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")


def test_same_seed_same_output(client: openai.OpenAI) -> None:
    def sample() -> str:
        reply = client.chat.completions.create(
            model="default",
            messages=[{"role": "user", "content": "Name a fruit."}],
            temperature=1.2,
            top_p=0.95,
            max_tokens=12,
            seed=1234,
        )
        return reply.choices[0].message.content or ""

    assert sample() == sample()


def test_unknown_model_is_an_openai_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["code"] == "model_not_found"


def test_logit_bias_bans_a_token_and_bad_biases_are_refused(client: openai.OpenAI) -> None:
    ask = {
        "model": "default",
        "temperature": 0,
        "max_tokens": 8,
        "messages": [{"role": "user", "content": QUESTION}],
    }
    plain = client.chat.completions.create(**ask)
    assert plain.choices[0].message.content.startswith("The")
    the = 504  # "The" in SmolLM2's vocabulary
    biased = client.chat.completions.create(logit_bias={str(the): -100}, **ask)
    assert not biased.choices[0].message.content.startswith("The")
    for bias in ({"999999": 1}, {str(the): 500}):
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(logit_bias=bias, **ask)
        assert caught.value.body["param"] == "logit_bias", caught.value.body
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model="default", prompt="Hi", max_tokens=2, logit_bias={"x": 1})


def test_usage_counts_the_prompt_tokens_the_prompt_cache_served(client: openai.OpenAI) -> None:
    """The engine keeps each slot's cells: asking again evaluates only the prompt's last token, and
    a different question reuses the chat template's system prompt. Both show in OpenAI's
    ``prompt_tokens_details.cached_tokens``; the answer does not change."""
    ask = {"model": "default", "temperature": 0, "max_tokens": 12}
    messages = [{"role": "user", "content": "Name three fruits."}]
    first = client.chat.completions.create(messages=messages, **ask)
    again = client.chat.completions.create(messages=messages, **ask)
    assert again.usage.prompt_tokens == first.usage.prompt_tokens
    assert again.usage.prompt_tokens_details.cached_tokens == again.usage.prompt_tokens - 1
    assert again.choices[0].message.content == first.choices[0].message.content
    stream = client.chat.completions.create(
        messages=messages, stream=True, stream_options={"include_usage": True}, **ask
    )
    (final,) = [chunk for chunk in stream if chunk.usage is not None]
    assert final.usage.prompt_tokens_details.cached_tokens == final.usage.prompt_tokens - 1
    other = client.chat.completions.create(
        messages=[{"role": "user", "content": "Which planet is the largest?"}], **ask
    )
    assert 20 < other.usage.prompt_tokens_details.cached_tokens < other.usage.prompt_tokens - 5
