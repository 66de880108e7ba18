"""Document 003's ``confidence_score``: the geometric-mean probability the model gave its own tokens.

The engine's per-sequence mean log-probability is checked against a forward pass of transformers on
the same tokens, and the score through the gateway must be in [0, 1] and higher for greedy
decoding than for hot sampling of the same prompt.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
import torch

from tests.procs import Mesh

pytestmark = pytest.mark.slow

PROMPT = "Explain what a lighthouse does."
#: A plain prompt (003 sends prompts as they are) that the bundled model continues rather than ends.
PLAIN_PROMPT = "Explain what a lighthouse does:"


def test_engine_mean_logprob_matches_a_forward_pass(reference_model: Any) -> None:
    from services.inference.llm.engines.transformers_engine import TransformersEngine
    from services.inference.llm.sampling import SamplingParams

    engine = TransformersEngine(reference_model, max_batch=4, name="test")
    finished = threading.Event()
    events: list[dict] = []

    def emit(event: dict) -> None:
        events.append(event)
        if "finish_reason" in event or "error" in event:
            finished.set()

    try:
        prompt_ids = engine.encode("", [{"role": "user", "content": PROMPT}])
        params = SamplingParams(max_tokens=16, temperature=1.3, seed=7)
        seq = engine.submit("c0", prompt_ids, params, emit)
        assert finished.wait(120)
    finally:
        engine.stop()
    last = events[-1]
    output = seq.output_ids
    assert last["usage"]["completion_tokens"] == len(output)
    with torch.inference_mode():
        logits = reference_model.model(torch.tensor([prompt_ids + output])).logits[0].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    start = len(prompt_ids) - 1  # the logits at position i predict token i + 1
    expected = sum(logprobs[start + i, token].item() for i, token in enumerate(output)) / len(output)
    assert last["mean_logprob"] == pytest.approx(expected, abs=1e-3)


def confidence(mesh: Mesh, temperature: float) -> float:
    """``confidence_score`` of one 003 inference."""
    reply = httpx.post(
        f"{mesh.base_url}/api/ai/inference",
        json={
            "prompt": PLAIN_PROMPT,
            "parameters": {"max_tokens": 32, "temperature": temperature, "seed": 11},
        },
        timeout=300,
    )
    assert reply.status_code == 200, reply.text
    score = reply.json()["confidence_score"]
    assert isinstance(score, float) and 0.0 <= score <= 1.0, score
    return score


def test_confidence_score_is_higher_for_greedy_than_hot_sampling(llm_mesh: Mesh) -> None:
    greedy, hot = confidence(llm_mesh, 0.0), confidence(llm_mesh, 1.5)
    assert 0.0 < hot < greedy < 1.0, (greedy, hot)
