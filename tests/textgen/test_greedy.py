"""Must-show 2: greedy output through the gateway equals transformers ``generate``, token for token;
and the continuous batch gives each sequence what it would get alone."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
import torch

from tests.procs import Mesh
from tests.textgen.conftest import QUESTION

pytestmark = pytest.mark.slow


def reference(loaded: Any, prompt_ids: list[int], max_new_tokens: int) -> list[int]:
    """transformers generate, greedy, batch 1."""
    output = loaded.model.generate(
        torch.tensor([prompt_ids]), max_new_tokens=max_new_tokens, do_sample=False, attention_mask=None
    )
    tokens = output[0][len(prompt_ids) :].tolist()
    return [t for t in tokens if t not in loaded.eos_token_ids]


def test_gateway_greedy_equals_transformers_generate(llm_mesh: Mesh, reference_model: Any) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    reply = httpx.post(
        f"{llm_mesh.base_url}/v1/chat/completions",
        json={"model": "default", "messages": messages, "temperature": 0, "max_tokens": 40},
        timeout=120,
    ).json()
    tokenizer = reference_model.tokenizer
    prompt_ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)[
        "input_ids"
    ]
    expected = reference(reference_model, list(prompt_ids), 40)
    got = tokenizer(reply["choices"][0]["message"]["content"], add_special_tokens=False)["input_ids"]
    assert got == expected
    assert reply["usage"]["prompt_tokens"] == len(prompt_ids)


def test_batched_sequences_match_their_solo_runs(reference_model: Any) -> None:
    from services.inference.llm.engine import LLMEngine
    from services.inference.llm.sampling import SamplingParams

    engine = LLMEngine(reference_model, max_batch=4, name="test")
    prompts = ["List three colors.", "Explain gravity in one sentence.", "Write a haiku about rain."]
    done = [threading.Event() for _ in prompts]
    outputs: list[list[str]] = [[] for _ in prompts]
    try:
        ids = [engine.encode("", [{"role": "user", "content": p}]) for p in prompts]
        for i, prompt_ids in enumerate(ids):

            def emit(event: dict, i: int = i) -> None:
                outputs[i].append(event.get("text", ""))
                if "finish_reason" in event or "error" in event:
                    done[i].set()

            # Different lengths and staggered arrivals: later ones join a running batch.
            engine.submit(f"s{i}", prompt_ids, SamplingParams(max_tokens=24 + 4 * i, temperature=0.0), emit)
        for event in done:
            assert event.wait(120)
        assert engine.stats()["completed"] == len(prompts)
        for i, prompt_ids in enumerate(ids):
            expected = reference_model.tokenizer.decode(reference(reference_model, prompt_ids, 24 + 4 * i))
            assert "".join(outputs[i]) == expected
    finally:
        engine.stop()
