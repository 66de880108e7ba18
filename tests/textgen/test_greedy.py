"""Greedy output through the gateway equals llama.cpp's own greedy output for the same GGUF, token for
token, on ten prompts; and the transformers fallback's continuous batch gives each sequence what it
would get alone (the llama.cpp engine's batch is checked in ``test_llamacpp_engine``)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
import torch

from tests.procs import Mesh
from tests.textgen.conftest import QUESTION, llama_greedy

pytestmark = pytest.mark.slow

PROMPTS = [
    QUESTION,
    "List three colors.",
    "Explain gravity in one sentence.",
    "Write a haiku about rain.",
    "What is 12 times 7?",
    "Name a famous painter.",
    "Give me a synonym for happy.",
    "Translate 'good morning' into Spanish.",
    "What does a lighthouse keeper do?",
    "Describe the smell of coffee in five words.",
]


def test_gateway_greedy_equals_llama_cpp(llm_mesh: Mesh, llama_reference: Any) -> None:
    for prompt in PROMPTS:
        messages = [{"role": "user", "content": prompt}]
        reply = httpx.post(
            f"{llm_mesh.base_url}/v1/chat/completions",
            json={"model": "default", "messages": messages, "temperature": 0, "max_tokens": 48},
            timeout=120,
        ).json()
        expected = llama_greedy(llama_reference, messages, 48)
        got_text = reply["choices"][0]["message"]["content"]
        want_text = expected["choices"][0]["message"]["content"]
        # Token for token: the same text from the same number of tokens, after the same prompt.
        assert got_text == want_text, prompt
        assert reply["usage"]["completion_tokens"] == expected["usage"]["completion_tokens"], prompt
        assert reply["usage"]["prompt_tokens"] == expected["usage"]["prompt_tokens"], prompt
        assert reply["choices"][0]["finish_reason"] == expected["choices"][0]["finish_reason"], prompt


def reference(loaded: Any, prompt_ids: list[int], max_new_tokens: int) -> list[int]:
    """transformers generate, greedy, batch 1."""
    output = loaded.model.generate(
        torch.tensor([prompt_ids]), max_new_tokens=max_new_tokens, do_sample=False, attention_mask=None
    )
    tokens = output[0][len(prompt_ids) :].tolist()
    return [t for t in tokens if t not in loaded.eos_token_ids]


def test_transformers_batched_sequences_match_their_solo_runs(reference_model: Any) -> None:
    from services.inference.llm.engines.transformers_engine import TransformersEngine
    from services.inference.llm.sampling import SamplingParams

    engine = TransformersEngine(reference_model, max_batch=4, name="test")
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
        assert engine.stats()["engine"] == "transformers"
        for i, prompt_ids in enumerate(ids):
            expected = reference_model.tokenizer.decode(reference(reference_model, prompt_ids, 24 + 4 * i))
            assert "".join(outputs[i]) == expected
    finally:
        engine.stop()
