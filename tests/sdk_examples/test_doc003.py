"""Document 003 (Auterity): its one Python example, run against the shared mesh with only its
import line changed (``from meshserve.compat.auterity import AIClient``).

It names ``gpt-4`` and ``claude-3``, whose weights are not here: each call gives 003's documented
MODEL_NOT_FOUND error (code, message, details with the model id and the available models, a
suggestion; request_id and timestamp in the envelope), the batch in place per request. The same
three calls on the bundled model show the client doing what the example shows."""

from __future__ import annotations

from typing import Any

import pytest

import meshserve
from meshserve.compat.auterity import AIClient
from tests.procs import Mesh
from tests.sdk_examples.harness import run

pytestmark = pytest.mark.integration


def assert_model_not_found(error: Any, model: str) -> None:
    """003's documented error for a model that is not available (as an exception or in place)."""
    if isinstance(error, BaseException):
        assert isinstance(error, meshserve.NotFoundError) and error.status_code == 404, error
        assert error.body["request_id"] and error.body["timestamp"]  # 003's envelope
        code, message, details, suggestion = error.code, error.message, error.details, error.suggestion
    else:
        code, message = error["code"], error["message"]
        details, suggestion = error["details"], error["suggestion"]
    assert code == "MODEL_NOT_FOUND"
    assert message == f"language model '{model}' is not available"
    # A list, as in 003's error example.
    assert details["model_id"] == model and isinstance(details["available_models"], list)
    assert "smollm2-135m-instruct" in details["available_models"]
    assert "available models" in suggestion


@pytest.fixture
def sections(at_mesh: Mesh) -> tuple[dict[str, Any], list[Any]]:
    """003's example run section by section: (namespace, sections)."""
    namespace: dict[str, Any] = {}
    return namespace, run("d003_01", namespace)


def test_client_goes_to_the_gateway(sections: tuple[dict[str, Any], list[Any]], at_mesh: Mesh) -> None:
    ns, (setup, *_rest) = sections
    assert setup.error is None
    client = ns["client"]
    assert isinstance(client, AIClient) and client.base_url == at_mesh.base_url
    assert client.transport.api_key == "your-key"


def test_simple_inference_with_gpt_4(sections: tuple[dict[str, Any], list[Any]]) -> None:
    ns, (_setup, simple, _stream, _batch) = sections
    assert_model_not_found(simple.error, "gpt-4")
    assert "response" not in ns


def test_streaming_inference_with_claude_3(sections: tuple[dict[str, Any], list[Any]]) -> None:
    _ns, (_setup, _simple, stream, _batch) = sections
    assert_model_not_found(stream.error, "claude-3")
    assert stream.stdout == ""  # settled before the first token


def test_batch_processing_reports_each_request_in_place(sections: tuple[dict[str, Any], list[Any]]) -> None:
    ns, (*_before, batch) = sections
    assert batch.error is None
    first, second = ns["batch"]
    assert (first.index, second.index) == (0, 1)
    assert first.success is False and second.success is False
    assert_model_not_found(first.error, "gpt-4")
    assert_model_not_found(second.error, "claude-3")


@pytest.mark.slow
def test_the_same_calls_on_the_bundled_model(at_mesh: Mesh, llm: Mesh) -> None:
    client = AIClient(api_key="your-key")
    response = client.inference(model="default", prompt="Hello world", temperature=0.7, max_tokens=8)
    assert response.response and 0 < response.tokens_used
    assert response.metadata["model"] == "smollm2-135m-instruct"
    tokens = list(client.stream("default", "Tell me a story", max_tokens=8))
    assert 0 < len(tokens) <= 8 and all(isinstance(t, str) for t in tokens) and "".join(tokens)
    batch = client.batch(
        [
            # Greedy: a sampled answer may be empty (the end-of-sequence token drawn first).
            {
                "model": "default",
                "prompt": "Summarize this...",
                "parameters": {"max_tokens": 4, "temperature": 0},
            },
            {
                "model": "default",
                "prompt": "Translate this...",
                "parameters": {"max_tokens": 4, "temperature": 0},
            },
        ]
    )
    assert [(b.index, b.success) for b in batch] == [(0, True), (1, True)]
    assert all(b.response for b in batch)
