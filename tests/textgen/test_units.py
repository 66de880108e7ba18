"""Sampling ranges, stop handling and request validation, without a model."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from services.common.errors import InvalidInput
from services.inference.llm.detokenize import TextStream
from services.inference.llm.engines.torch_sampler import Sampler
from services.inference.llm.limits import checked_prompt_ids
from services.inference.llm.requests import GenerationRequest, SamplingRequest, build_job
from services.inference.llm.sampling import SamplingParams
from services.inference.plugins.base import Message


class CharTokenizer:
    """One token per character (ids are code points)."""

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return "".join(chr(i) for i in ids)


def feed(stream: TextStream, text: str) -> list[str]:
    deltas = []
    for ch in text:
        deltas.append(stream.push(ord(ch)))
        if stream.stopped:
            break
    return deltas


def test_stop_sequence_is_cut_and_never_sent() -> None:
    stream = TextStream(CharTokenizer(), ("END",))
    deltas = feed(stream, "abcENDxyz")
    assert "".join(deltas) + stream.flush() == "abc"
    assert stream.stopped


def test_partial_stop_prefix_is_held_then_released() -> None:
    stream = TextStream(CharTokenizer(), ("END",))
    assert feed(stream, "aE") == ["a", ""]
    assert stream.push(ord("x")) == "Ex"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (SamplingParams(temperature=5), "temperature"),
        (SamplingParams(max_tokens=0), "max_tokens"),
        (SamplingParams(top_p=0), "top_p"),
        (SamplingParams(top_k=-1), "top_k"),
        (SamplingParams(frequency_penalty=3), "frequency_penalty"),
        (SamplingParams(stop=("a", "b", "c", "d", "e")), "stop"),
        (SamplingParams(logit_bias=((5, 101.0),)), "logit_bias"),
        (SamplingParams(logit_bias=((-1, 1.0),)), "logit_bias"),
        # NaN compares false with every bound; it once passed and the engine sampled garbage.
        (SamplingParams(temperature=math.nan), "temperature"),
        (SamplingParams(presence_penalty=math.nan), "presence_penalty"),
        (SamplingParams(frequency_penalty=math.nan), "frequency_penalty"),
        (SamplingParams(logit_bias=((5, math.nan),)), "logit_bias"),
        (SamplingParams(top_p=math.nan), "top_p"),
    ],
)
def test_out_of_range_parameters(params: SamplingParams, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        params.validate()
    assert caught.value.details["field"] == field


def test_seeded_sampling_repeats_and_penalties_apply() -> None:
    logits = torch.randn(50, generator=torch.Generator().manual_seed(0))
    params = SamplingParams(temperature=1.0, top_k=10, top_p=0.9, seed=42)
    first = [Sampler(params).next_token(logits) for _ in range(1)]
    a, b = Sampler(params), Sampler(params)
    assert [a.next_token(logits) for _ in range(20)] == [b.next_token(logits) for _ in range(20)]
    top10 = set(torch.topk(logits, 10).indices.tolist())
    assert set(first) <= top10
    greedy = Sampler(SamplingParams(temperature=0.0, presence_penalty=2.0, frequency_penalty=2.0))
    tokens = [greedy.next_token(logits) for _ in range(3)]
    assert len(set(tokens)) == 3, "penalties push the arg-max away from tokens already used"


def test_logit_bias_moves_the_arg_max_and_travels_with_the_parameters() -> None:
    logits = torch.randn(50, generator=torch.Generator().manual_seed(1))
    top = int(torch.argmax(logits))
    banned = Sampler(SamplingParams(temperature=0.0, logit_bias=((top, -100.0),)))
    assert banned.next_token(logits) != top
    forced = Sampler(SamplingParams(temperature=1.0, seed=3, logit_bias=((7, 100.0),)))
    assert [forced.next_token(logits) for _ in range(5)] == [7] * 5
    params = SamplingParams(logit_bias=((3, -2.5), (9, 1.0)))
    assert SamplingParams.from_dict(params.to_dict()) == params


def test_request_validation() -> None:
    common = {"default_max_tokens": 64, "max_prompt_chars": 100}
    with pytest.raises(InvalidInput, match="neither messages nor a prompt"):
        build_job(GenerationRequest(""), **common)
    with pytest.raises(InvalidInput) as caught:
        build_job(GenerationRequest("", "x" * 101), **common)
    assert caught.value.details == {"field": "prompt", "max_length": 100, "provided_length": 101}
    with pytest.raises(InvalidInput) as caught:
        build_job(GenerationRequest("", "hi", sampling=SamplingRequest(n=9)), **common)
    assert caught.value.details == {"field": "n", "min": 1, "max": 8, "provided": 9}
    with pytest.raises(InvalidInput, match="top_logprobs needs logprobs"):
        build_job(GenerationRequest("", "hi", sampling=SamplingRequest(top_logprobs=3)), **common)
    with pytest.raises(InvalidInput) as caught:
        build_job(
            GenerationRequest("", "hi", sampling=SamplingRequest(response_format={"type": "xml"})), **common
        )
    assert caught.value.details["field"] == "response_format.type"
    job = build_job(GenerationRequest("", "hi", sampling=SamplingRequest(temperature=0)), **common)
    assert job.params.max_tokens == 64 and not job.max_tokens_explicit and job.params.greedy


def test_a_prompt_of_token_ids_travels_as_given() -> None:
    common = {"default_max_tokens": 8, "max_prompt_chars": 4}
    job = build_job(GenerationRequest("", prompt_ids=(1, 2, 3)), **common)
    assert job.body()["prompt_ids"] == [1, 2, 3] and job.body()["prompt"] == ""
    assert "prompt_ids" not in build_job(GenerationRequest("", "hi"), **common).body()
    with pytest.raises(InvalidInput) as caught:
        build_job(GenerationRequest("", prompt_ids=(1,) * 5), **common)
    assert caught.value.details == {"field": "prompt", "max_length": 4, "provided_length": 5}
    assert "5 tokens" in caught.value.message
    with pytest.raises(InvalidInput, match="without chat messages"):
        build_job(GenerationRequest("", prompt_ids=(1,), messages=(Message("user", "hi"),)), **common)
    # plugins read the ids' text: the ids stay while the text is unchanged, a rewrite replaces them
    request = GenerationRequest("", "Hello", prompt_ids=(9, 8))
    assert request.with_text(request.text()).prompt_ids == (9, 8)
    rewritten = request.with_text(replace(request.text(), prompt="Hello there"))
    assert rewritten.prompt_ids == () and rewritten.prompt == "Hello there"


@pytest.mark.parametrize("ids", [[], [0, 10], [-1], [True], ["3"], None])
def test_a_worker_refuses_token_ids_the_model_does_not_have(ids: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        checked_prompt_ids(ids, vocab_size=10)
    assert caught.value.details["field"] == "prompt"
    assert checked_prompt_ids([0, 9], vocab_size=10) == [0, 9]
