"""003's ``/api/ai/advanced/optimize/model`` on a GGUF language model: llama.cpp re-quantizes it into
a new registry version, with its size and decode speed measured against the original, and the new
version serves chat completions."""

from __future__ import annotations

import httpx
import pytest

from services.common.bundled import SMOLLM2_GGUF
from tests.procs import Mesh
from tests.textgen.conftest import greedy_chat, register_bundled_gguf

pytestmark = [pytest.mark.slow, pytest.mark.integration]

NAME = "optimize-llm"


@pytest.fixture(scope="module")
def registered(llm_mesh: Mesh) -> str:
    return register_bundled_gguf(llm_mesh, NAME)


def test_requantized_version_is_registered_measured_and_served(llm_mesh: Mesh, registered: str) -> None:
    reply = httpx.post(
        f"{llm_mesh.base_url}/api/ai/advanced/optimize/model",
        json={"model_id": NAME, "quantization": "8-bit", "request_pattern": {"concurrent_requests": 4}},
        timeout=600,
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    model = body["model"]
    assert body["optimized"] is True and model["format"] == "gguf" and model["version"] != registered
    labels = model["labels"]
    assert labels["quantization"] == "Q8_0" and labels["optimized_from"] == f"{NAME}:{registered}"
    original = SMOLLM2_GGUF.path.stat().st_size
    assert int(labels["size_bytes_before"]) == original and model["size_bytes"] > original  # 8 bits > 4.5
    assert float(labels["tokens_per_second"]) > 0 and float(labels["tokens_per_second_before"]) > 0
    assert "Q8_0" in body["optimizations"][0] and "tokens/s" in body["optimizations"][1]

    # The name now serves the new version: re-quantized weights answer greedily, and not as the
    # original 4-bit weights (served under the bundled name) do.
    answers = [chat(llm_mesh, model) for model in (NAME, "smollm2-135m-instruct")]
    assert answers[0] and answers[0] != answers[1], answers


def chat(mesh: Mesh, model: str) -> str:
    reply = greedy_chat(mesh, model, "Which city is the capital of France?", 12)
    return str(reply["choices"][0]["message"]["content"])


def test_unsupported_width_is_refused(llm_mesh: Mesh, registered: str) -> None:
    reply = httpx.post(
        f"{llm_mesh.base_url}/api/ai/advanced/optimize/model",
        json={"model_id": NAME, "quantization": "3-bit"},
        timeout=120,
    )
    assert reply.status_code == 400, reply.text
    assert "quantization" in reply.text


def test_a_registered_language_model_embeds(llm_mesh: Mesh, registered: str) -> None:
    reply = httpx.post(
        f"{llm_mesh.base_url}/v1/embeddings", json={"model": NAME, "input": ["a", "b"]}, timeout=300
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["model"] == NAME and [len(d["embedding"]) for d in body["data"]] == [576, 576]
