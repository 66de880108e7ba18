"""OpenAI completions' ``best_of``, ``echo`` and several prompts through the official client, each
checked against the same requests made without it; ``suffix`` and the combinations the engines
cannot serve are OpenAI errors naming the field."""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np
import openai
import pytest

from tests.procs import Mesh
from tests.textgen.conftest import openai_error_param

pytestmark = pytest.mark.slow

PROMPT = "Once upon a time, in a small village,"
SAMPLED: dict[str, Any] = {
    "model": "default",
    "prompt": PROMPT,
    "temperature": 1.0,
    "seed": 7,
    "max_tokens": 12,
}


@pytest.fixture(scope="module")
def client(llm_mesh: Mesh) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{llm_mesh.base_url}/v1", api_key="unused", max_retries=0, timeout=300)


def test_best_of_returns_the_most_likely_candidates_best_first(client: openai.OpenAI) -> None:
    # The same seeded request with n=4 makes the same four candidates (consecutive seeds), with the
    # log-probability of every token: the mean of those ranks them.
    candidates = client.completions.create(**SAMPLED, n=4, logprobs=0)
    means = {c.text: statistics.fmean(c.logprobs.token_logprobs) for c in candidates.choices}
    assert len(means) == 4, "four different candidates are needed to tell the best"
    ranked = sorted(means, key=means.__getitem__, reverse=True)

    best = client.completions.create(**SAMPLED, best_of=4)
    best_two = client.completions.create(**SAMPLED, best_of=4, n=2)

    assert [c.text for c in best.choices] == ranked[:1]
    assert [c.text for c in best_two.choices] == ranked[:2]
    assert [c.index for c in best_two.choices] == [0, 1]
    # Every candidate was generated: the usage counts them all, as the n=4 request's does.
    assert (
        best.usage.completion_tokens == best_two.usage.completion_tokens == candidates.usage.completion_tokens
    )
    assert best.usage.prompt_tokens == candidates.usage.prompt_tokens


def test_echo_starts_each_choice_with_the_prompt(client: openai.OpenAI) -> None:
    plain = client.completions.create(model="default", prompt=PROMPT, temperature=0, max_tokens=8)
    echoed = client.completions.create(
        model="default", prompt=PROMPT, temperature=0, max_tokens=8, echo=True, n=2
    )
    assert [c.text for c in echoed.choices] == [PROMPT + plain.choices[0].text] * 2
    assert echoed.usage.completion_tokens == 2 * plain.usage.completion_tokens
    stream = client.completions.create(
        model="default", prompt=PROMPT, temperature=0, max_tokens=8, echo=True, stream=True
    )
    texts = [choice.text for chunk in stream for choice in chunk.choices]
    assert texts[0].startswith(PROMPT) and "".join(texts) == PROMPT + plain.choices[0].text


def test_several_prompts_answer_as_their_single_requests_numbered_prompt_by_prompt(
    client: openai.OpenAI,
) -> None:
    prompts = [PROMPT, "The capital of France is", "def fibonacci(n):"]
    alone = [
        client.completions.create(model="default", prompt=p, temperature=0, max_tokens=8, n=2)
        for p in prompts
    ]
    together = client.completions.create(model="default", prompt=prompts, temperature=0, max_tokens=8, n=2)

    # OpenAI's numbering: prompt i's j-th choice is i * n + j.
    assert [c.index for c in together.choices] == list(range(6))
    assert [c.text for c in together.choices] == [c.text for a in alone for c in a.choices]
    assert together.usage.prompt_tokens == sum(a.usage.prompt_tokens for a in alone)
    assert together.usage.completion_tokens == sum(a.usage.completion_tokens for a in alone)

    stream = client.completions.create(
        model="default",
        prompt=prompts,
        temperature=0,
        max_tokens=8,
        n=2,
        stream=True,
        stream_options={"include_usage": True},
    )
    texts: dict[int, str] = {}
    usage = None
    for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + choice.text
        usage = chunk.usage or usage
    assert [texts[i] for i in range(6)] == [c.text for c in together.choices]
    assert usage is not None and usage.prompt_tokens == together.usage.prompt_tokens
    assert usage.completion_tokens == together.usage.completion_tokens


def test_a_prompt_of_token_ids_answers_as_its_text(client: openai.OpenAI, llama_reference: Any) -> None:
    """Token ids (what lm-eval's ``local-completions`` sends) are evaluated as given: the model's own
    tokens of a text answer as the text does, and ``echo`` repeats the text they stand for."""
    ids = llama_reference.tokenize(PROMPT.encode(), add_bos=True, special=True)
    as_text = client.completions.create(model="default", prompt=PROMPT, temperature=0, max_tokens=8)
    as_ids = client.completions.create(model="default", prompt=ids, temperature=0, max_tokens=8)
    assert as_ids.choices[0].text == as_text.choices[0].text
    assert as_ids.usage is not None and as_text.usage is not None
    assert as_ids.usage.prompt_tokens == as_text.usage.prompt_tokens == len(ids)
    shorter = ids[:-2]
    both = client.completions.create(model="default", prompt=[ids, shorter], temperature=0, max_tokens=8)
    assert [c.index for c in both.choices] == [0, 1]
    assert both.choices[0].text == as_text.choices[0].text
    assert both.usage is not None and both.usage.prompt_tokens == 2 * len(ids) - 2
    echoed = client.completions.create(
        model="default", prompt=shorter, temperature=0, max_tokens=8, echo=True
    )
    shorter_text = llama_reference.detokenize(shorter, special=True).decode()
    assert echoed.choices[0].text == shorter_text + both.choices[1].text


def test_echo_with_logprobs_scores_the_prompt_as_llama_cpp_does(
    client: openai.OpenAI, llama_reference: Any
) -> None:
    """lm-eval's loglikelihood request (token ids, ``echo``, ``logprobs: 1``, ``max_tokens: 1``): one
    entry per prompt token, each given the tokens before it (the first has none), as llama.cpp's own
    ``Llama`` scores them, then the token generated; streamed, the same entries."""
    ids = llama_reference.tokenize(PROMPT.encode(), add_bos=True, special=True)
    request: dict[str, Any] = {"model": "default", "prompt": ids, "temperature": 0, "max_tokens": 1}
    reply = client.completions.create(**request, logprobs=1, echo=True, seed=1234)
    scored = reply.choices[0].logprobs
    assert scored is not None and scored.token_logprobs is not None and scored.top_logprobs is not None
    print("DEBUG", scored.tokens, scored.token_logprobs, reply.choices[0].text)
    assert len(scored.token_logprobs) == len(ids) + 1 and scored.token_logprobs[0] is None
    # The reference: llama-cpp-python's own evaluation of the ids, every position's logits kept
    # (its create_completion's echo logprobs read each row one token late, so they are not used).
    llama_reference.reset()
    llama_reference.eval(ids)
    rows = np.asarray(llama_reference.scores[: len(ids) - 1], dtype=np.float64)
    log_softmax = rows - rows.max(axis=1, keepdims=True)
    log_softmax -= np.log(np.exp(log_softmax).sum(axis=1, keepdims=True))
    expected = [float(log_softmax[i, token]) for i, token in enumerate(ids[1:])]
    for got, want in zip(scored.token_logprobs[1 : len(ids)], expected, strict=True):
        assert got is not None and abs(got - want) < 0.05, (got, want)
    for got, top in zip(scored.token_logprobs[1:], scored.top_logprobs[1:], strict=True):
        assert got is not None and got <= max(top.values()) + 1e-6  # lm-eval's greedy check reads these
    plain = client.completions.create(**request)
    assert (
        reply.choices[0].text
        == llama_reference.detokenize(ids, special=True).decode() + plain.choices[0].text
    )
    assert scored.tokens is not None and scored.tokens[-1] == plain.choices[0].text
    streamed: list[float | None] = []
    for chunk in client.completions.create(**request, logprobs=1, echo=True, seed=1234, stream=True):
        if chunk.choices and chunk.choices[0].logprobs is not None:
            streamed += chunk.choices[0].logprobs.token_logprobs or []
    assert streamed == scored.token_logprobs
    texts = client.completions.create(
        model="default", prompt=PROMPT, temperature=0, max_tokens=4, echo=True, logprobs=2
    ).choices[0]
    assert texts.logprobs is not None and texts.logprobs.tokens is not None
    assert "".join(texts.logprobs.tokens) == texts.text and texts.text.startswith(PROMPT)


def test_a_bad_prompt_among_several_fails_the_request_naming_prompt(llm_mesh: Mesh) -> None:
    request = {"prompt": [PROMPT, "word " * 3000], "max_tokens": 4}
    assert openai_error_param(llm_mesh, "/v1/completions", request) == "prompt"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": []}, "prompt"),
        ({"prompt": [[1, 2], []]}, "prompt"),
        ({"prompt": [[False]]}, "prompt"),  # pydantic read false as token 0 (found by schemathesis)
        ({"prompt": [-1]}, "prompt"),
        ({"prompt": [2**31]}, "prompt"),
        ({"prompt": [1, 10**6]}, "prompt"),  # the model's vocabulary has 49152 tokens
        ({"logit_bias": {str(2**40): 1}}, "logit_bias"),
        ({"prompt": [PROMPT] * 17}, "prompt"),
        ({"n": 0}, "n"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),  # without stream, as OpenAI
        ({"seed": 2**70}, "seed"),
        ({"best_of": 2, "n": 3}, "best_of"),
        ({"best_of": 9}, "best_of"),
        ({"suffix": " and they lived happily ever after."}, "suffix"),
    ],
)
def test_options_the_engines_cannot_serve_are_openai_errors(
    llm_mesh: Mesh, options: dict[str, Any], field: str
) -> None:
    request = {"prompt": PROMPT, "max_tokens": 4, **options}
    assert openai_error_param(llm_mesh, "/v1/completions", request) == field
