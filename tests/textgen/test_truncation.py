"""The Responses API's ``truncation``: a conversation longer than the model's context is refused
when truncation is disabled (the default); with ``auto`` the fewest oldest items after the
instructions are left out, exactly those the model's own tokenizer says must go, so the model reads
the shortened conversation as it would were it sent as is."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.procs import Mesh

pytestmark = pytest.mark.slow

INSTRUCTIONS = "Answer in one short sentence."
MAX_OUTPUT = 16


def _conversation() -> list[dict[str, str]]:
    """Twenty turns about the sea, about 2,600 tokens in all, and a last question."""
    said = []
    for turn in range(10):
        said.append(
            {"role": "user", "content": f"Tell me fact {turn} about the sea. " + "Waves roll in. " * 30}
        )
        said.append({"role": "assistant", "content": f"Fact {turn}: " + "The sea is deep and salty. " * 20})
    said.append({"role": "user", "content": "What colour is the sea?"})
    return said


def _prompt_tokens(mesh: Mesh, messages: list[dict[str, str]]) -> int:
    system = [{"role": "system", "content": INSTRUCTIONS}]
    reply = httpx.post(
        f"{mesh.base_url}/tokenize", json={"model": "default", "messages": system + messages}, timeout=60
    )
    assert reply.status_code == 200, reply.text
    return int(reply.json()["count"])


def _respond(mesh: Mesh, messages: list[dict[str, str]], truncation: str) -> httpx.Response:
    body: dict[str, Any] = {
        "model": "default",
        "instructions": INSTRUCTIONS,
        "input": messages,
        "temperature": 0,
        "max_output_tokens": MAX_OUTPUT,
        "truncation": truncation,
        "store": False,
    }
    return httpx.post(f"{mesh.base_url}/v1/responses", json=body, timeout=300)


def test_auto_truncation_leaves_out_exactly_the_oldest_items_that_do_not_fit(llm_mesh: Mesh) -> None:
    context = int(httpx.get(f"{llm_mesh.base_url}/tokenizer_info", timeout=60).json()["model_max_length"])
    messages = _conversation()
    assert _prompt_tokens(llm_mesh, messages) + MAX_OUTPUT > context
    refused = _respond(llm_mesh, messages, "disabled")
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["type"] == "invalid_request_error"
    dropped = next(
        k for k in range(1, len(messages)) if _prompt_tokens(llm_mesh, messages[k:]) + MAX_OUTPUT <= context
    )
    assert dropped >= 2  # more than one item had to go
    auto = _respond(llm_mesh, messages, "auto")
    assert auto.status_code == 200, auto.text
    shortened = _respond(llm_mesh, messages[dropped:], "disabled")
    assert shortened.status_code == 200, shortened.text
    # The model read exactly the shortened conversation: the same tokens, counted three ways. (Its
    # text is not compared: llama.cpp's logits for a 2,000-token prompt differ by up to ~0.9 between
    # a cold evaluation and one that reuses a cached prefix, so a greedy answer may differ too.)
    kept = _prompt_tokens(llm_mesh, messages[dropped:])
    assert auto.json()["usage"]["input_tokens"] == shortened.json()["usage"]["input_tokens"] == kept
    assert _prompt_tokens(llm_mesh, messages[dropped - 1 :]) + MAX_OUTPUT > context  # nor one item more
    assert auto.json()["output"][0]["content"][0]["text"]
    assert auto.json()["truncation"] == "auto"
