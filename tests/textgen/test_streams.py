"""Must-show 3: every streaming endpoint sends events one by one in its document's format."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.procs import Mesh

pytestmark = pytest.mark.slow

PROMPT = "Once upon a time, in a small village by the sea, there lived"


def read_sse(url: str, body: dict[str, Any]) -> list[tuple[float, str]]:
    """(arrival time, data) of every SSE event."""
    events = []
    with httpx.stream("POST", url, json=body, timeout=120) as reply:
        assert reply.status_code == 200, reply.read()
        assert reply.headers["content-type"].startswith("text/event-stream")
        assert reply.headers.get("x-request-id")
        for line in reply.iter_lines():
            if line.startswith("data: "):
                events.append((time.perf_counter(), line[len("data: ") :]))
    return events


def assert_incremental(events: list[tuple[float, str]]) -> None:
    """Events spread over time instead of arriving in one burst."""
    assert len(events) >= 6
    spread = events[-2][0] - events[0][0]
    assert spread > 0.1, f"events arrived in one burst ({spread:.3f}s)"


CASES: list[tuple[str, dict[str, Any], Callable[[list[Any]], None]]] = []


def test_openai_chat_stream(llm_mesh: Mesh) -> None:
    events = read_sse(
        f"{llm_mesh.base_url}/v1/chat/completions",
        {
            "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": 20,
            "stream": True,
            "temperature": 0,
        },
    )
    assert_incremental(events)
    assert events[-1][1] == "[DONE]"
    chunks = [json.loads(d) for _, d in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert len({c["id"] for c in chunks}) == 1


def test_openai_completion_stream(llm_mesh: Mesh) -> None:
    events = read_sse(
        f"{llm_mesh.base_url}/v1/completions",
        {"prompt": PROMPT, "max_tokens": 20, "stream": True, "temperature": 0},
    )
    assert_incremental(events)
    assert events[-1][1] == "[DONE]"
    chunks = [json.loads(d) for _, d in events[:-1]]
    assert all(c["object"] == "text_completion" for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_llama_gpu_stream_infer(llm_mesh: Mesh) -> None:
    events = read_sse(
        f"{llm_mesh.base_url}/api/v1/stream_infer",
        {"text": PROMPT, "max_tokens": 20, "stream": True, "temperature": 0},
    )
    assert_incremental(events)
    data = [json.loads(d) for _, d in events]
    assert [e["position"] for e in data] == list(range(len(data)))
    assert all(e["is_complete"] is False for e in data[:-1])
    assert data[-1]["is_complete"] is True
    assert data[-1]["final_text"] == "".join(e["token"] for e in data)


def test_auterity_inference_stream(llm_mesh: Mesh) -> None:
    events = read_sse(
        f"{llm_mesh.base_url}/api/ai/inference/stream",
        {"model_id": "default", "prompt": PROMPT, "parameters": {"max_tokens": 20, "temperature": 0}},
    )
    assert_incremental(events)
    data = [json.loads(d) for _, d in events]
    assert all(e["type"] == "token" and e["token"] for e in data[:-1])
    assert data[-1] == {"type": "done"}


def test_non_streaming_surfaces(llm_mesh: Mesh) -> None:
    base = llm_mesh.base_url
    infer = httpx.post(
        f"{base}/api/v1/infer", json={"text": "Say hello.", "max_tokens": 8, "temperature": 0}, timeout=120
    ).json()
    assert infer["success"] is True and infer["result"]["generated_text"]
    assert infer["result"]["model_used"] == "smollm2-135m-instruct" and infer["result"]["backend"] == "cpu"
    assert 0 < infer["result"]["tokens_generated"] <= 8
    batch = httpx.post(
        f"{base}/api/v1/batch_infer",
        json={
            "inputs": [
                {"id": "a", "text": "Hi", "max_tokens": 4},
                {"id": "b", "text": "Hello", "max_tokens": 6},
            ]
        },
        timeout=120,
    ).json()
    assert [r["id"] for r in batch["results"]] == ["a", "b"]
    assert batch["metadata"]["items_processed"] == 2
    ai = httpx.post(
        f"{base}/api/ai/inference",
        json={"prompt": "Say hi.", "parameters": {"max_tokens": 6, "temperature": 0}},
        timeout=120,
    ).json()
    assert ai["response"] and ai["tokens_used"] > 6 and ai["cached"] is False
    ai_batch = httpx.post(
        f"{base}/api/ai/inference/batch",
        json={
            "requests": [
                {"prompt": "One", "parameters": {"max_tokens": 3}},
                {"model_id": "nope", "prompt": "x"},
            ]
        },
        timeout=120,
    ).json()
    assert [r["success"] for r in ai_batch["results"]] == [True, False]
    assert ai_batch["results"][1]["error"]["code"] == "MODEL_NOT_FOUND"
    models = httpx.get(
        f"{base}/api/ai/models", params={"capabilities": "text-generation,chat"}, timeout=30
    ).json()
    assert "smollm2-135m-instruct" in [m["id"] for m in models["models"]]
    assert all("text-generation" in m["capabilities"] for m in models["models"])
    none = httpx.get(f"{base}/api/ai/models", params={"provider": "openai"}, timeout=30).json()
    assert none["models"] == [] and none["total"] == 0
