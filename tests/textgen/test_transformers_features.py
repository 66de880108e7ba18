"""The fallback engine provides what llama.cpp does, through the same shared scheduler: token
log-probabilities with alternatives, structured output under an llguidance grammar, embeddings."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import torch

from services.inference.llm.sampling import SamplingParams

pytestmark = pytest.mark.slow

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 16}, "age": {"type": "integer", "maximum": 120}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def engine(reference_model: Any) -> Iterator[Any]:
    from services.inference.llm.engines.transformers_engine import TransformersEngine

    engine = TransformersEngine(reference_model, max_batch=4, name="test")
    yield engine
    engine.stop()


def run(
    engine: Any, messages: list[dict[str, str]], params: SamplingParams
) -> tuple[Any, list[dict[str, Any]]]:
    finished = threading.Event()
    events: list[dict[str, Any]] = []

    def emit(event: dict[str, Any]) -> None:
        events.append(event)
        if "finish_reason" in event or "error" in event:
            finished.set()

    prompt_ids = engine.encode("", messages)
    seq = engine.submit("s", prompt_ids, params, emit, grammar=engine.grammar(params))
    assert finished.wait(180)
    assert "error" not in events[-1], events[-1]
    return seq, events


def test_logprobs_and_alternatives_match_a_forward_pass(engine: Any, reference_model: Any) -> None:
    messages = [{"role": "user", "content": "Name a color."}]
    seq, events = run(
        engine, messages, SamplingParams(max_tokens=6, temperature=0.0, logprobs=True, top_logprobs=3)
    )
    entries = [entry for event in events for entry in event.get("logprobs", ())]
    assert len(entries) == len(seq.output_ids)
    prompt_ids = engine.encode("", messages)
    with torch.inference_mode():
        logits = reference_model.model(torch.tensor([prompt_ids + seq.output_ids])).logits[0].float()
    expected = torch.log_softmax(logits, dim=-1)
    for position, (entry, token) in enumerate(zip(entries, seq.output_ids, strict=True)):
        row = expected[len(prompt_ids) - 1 + position]
        assert entry["logprob"] == pytest.approx(row[token].item(), abs=1e-3)
        best = torch.topk(row, 3)
        assert [round(t["logprob"], 3) for t in entry["top"]] == [round(v, 3) for v in best.values.tolist()]


def test_prompt_logprobs_match_a_forward_pass(engine: Any, reference_model: Any) -> None:
    """echo with logprobs: each prompt token given those before it, the first without one."""
    messages = [{"role": "user", "content": "Name a color."}]
    params = SamplingParams(
        max_tokens=2, temperature=0.0, logprobs=True, top_logprobs=2, prompt_logprobs=True
    )
    _, events = run(engine, messages, params)
    prompt = [entry for event in events for entry in event.get("prompt_logprobs", ())]
    prompt_ids = engine.encode("", messages)
    assert len(prompt) == len(prompt_ids) and prompt[0]["logprob"] is None and prompt[0]["top"] == []
    with torch.inference_mode():
        logits = reference_model.model(torch.tensor([prompt_ids])).logits[0].float()
    expected = torch.log_softmax(logits, dim=-1)
    for position, (entry, token) in enumerate(zip(prompt[1:], prompt_ids[1:], strict=True)):
        assert entry["logprob"] == pytest.approx(expected[position][token].item(), abs=1e-3)
        assert len(entry["top"]) == 2


def test_json_schema_output_validates(engine: Any) -> None:
    for seed in range(3):
        params = SamplingParams(
            max_tokens=64,
            temperature=1.0,
            seed=seed,
            response_format={"type": "json_schema", "schema": SCHEMA},
        )
        _, events = run(engine, [{"role": "user", "content": "Describe a person as JSON."}], params)
        assert events[-1]["finish_reason"] == "stop"
        jsonschema.validate(json.loads("".join(e.get("text", "") for e in events)), SCHEMA)


def test_embeddings_depend_on_the_text_only(engine: Any) -> None:
    first, tokens = engine.embed(["a", "b"])
    second, _ = engine.embed(["b", "a"])
    assert first == second[::-1] and first[0] != first[1] and tokens >= 2
    ids = engine.loaded.tokenizer("a")["input_ids"]
    as_ids, counted = engine.embed([ids])
    assert as_ids[0] == pytest.approx(first[0], abs=1e-5) and counted == len(ids)
