"""Document 003's advanced inference on the real mesh: smart routing picks and runs the bundled
model, benchmarks measure it (and report an unknown model per model), and a prefetched prompt is
answered from the inference service's response cache."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.procs import Mesh
from tests.textgen.conftest import QUESTION

pytestmark = [pytest.mark.slow, pytest.mark.integration]

BUNDLED = "smollm2-135m-instruct"


def post(mesh: Mesh, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{mesh.base_url}{path}", json=body, timeout=300)


def assert_error(reply: httpx.Response, status: int, code: str) -> dict:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["error"]["code"] == code and body["request_id"] and body["timestamp"], body
    return body


def test_smart_inference_routes_to_the_measured_model_and_answers(llm_mesh: Mesh) -> None:
    reply = post(
        llm_mesh,
        "/api/ai/advanced/inference/smart",
        {
            "model_type": "text-generation",
            "prompt": QUESTION,
            "priority": "performance",
            "context": {"task_complexity": "high"},
            "parameters": {"max_tokens": 12, "temperature": 0},
        },
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    routing = body["routing"]
    assert routing["selected_model"] == BUNDLED and body["metadata"]["model"] == BUNDLED
    assert routing["prompt_format"] == "chat"  # the bundled model is an instruct (chat) model
    assert "Paris" in body["response"] and body["tokens_used"] > 0 and body["cached"] is False
    chosen = next(c for c in routing["candidates"] if c["model_id"] == BUNDLED)
    # llm_mesh already ran a generation: the choice rests on a measured latency, and says so.
    assert chosen["loaded"] and chosen["latency_p50_ms"] > 0 and chosen["requests"] >= 1
    assert "lowest measured median latency" in routing["reason"] and "ms over" in routing["reason"]
    assert chosen["size_bytes"] > 50_000_000  # the GGUF file on disk

    cost = post(
        llm_mesh,
        "/api/ai/advanced/inference/smart",
        {"prompt": "Hi", "priority": "cost", "parameters": {"max_tokens": 2}},
    ).json()
    assert cost["routing"]["selected_model"] == BUNDLED and "smallest model" in cost["routing"]["reason"]


def test_smart_inference_bad_input(llm_mesh: Mesh) -> None:
    assert_error(
        post(llm_mesh, "/api/ai/advanced/inference/smart", {"prompt": "x", "priority": "urgent"}),
        400,
        "INVALID_INPUT",
    )
    body = assert_error(
        post(
            llm_mesh,
            "/api/ai/advanced/inference/smart",
            {"prompt": "x", "model_type": "image-classification"},
        ),
        404,
        "MODEL_NOT_FOUND",
    )
    assert "text-generation" in body["error"]["details"]["available_model_types"]
    assert_error(
        post(llm_mesh, "/api/ai/advanced/inference/smart", {"model_type": "chat"}), 400, "INVALID_INPUT"
    )


def test_benchmark_measures_known_models_and_reports_unknown_ones(llm_mesh: Mesh) -> None:
    reply = post(
        llm_mesh,
        "/api/ai/advanced/benchmark/run",
        {
            "models": [BUNDLED, "gpt-4"],
            "test_cases": ["Simple Q&A"],
            "metrics": ["latency", "throughput", "accuracy", "cost"],
            "max_tokens": 8,
            "repetitions": 2,
        },
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    known, unknown = body["results"]
    assert known["status"] == "completed" and known["error"] is None
    case = known["test_cases"][0]
    assert case["name"] == "Simple Q&A" and case["runs"] == 2
    latency, throughput = case["metrics"]["latency"], case["metrics"]["throughput"]
    assert 0 < latency["min_ms"] <= latency["p50_ms"] <= latency["max_ms"]
    assert 0 < latency["first_token_p50_ms"] <= latency["p50_ms"]
    assert throughput["tokens_per_second"] > 0 and 2 <= throughput["completion_tokens"] <= 16
    assert case["metrics"]["accuracy"] is None and case["metrics"]["cost"] is None
    assert (
        "not measured" in body["not_measured"]["accuracy"] and "self-hosted" in body["not_measured"]["cost"]
    )
    assert unknown["model_id"] == "gpt-4" and unknown["status"] == "failed"
    assert unknown["error"]["code"] == "MODEL_NOT_FOUND" and unknown["test_cases"] == []
    assert body["models_measured"] == 1 and body["models_failed"] == 1


def test_benchmark_bad_input(llm_mesh: Mesh) -> None:
    path = "/api/ai/advanced/benchmark/run"
    body = assert_error(
        post(llm_mesh, path, {"models": [BUNDLED], "test_cases": ["Poetry Slam"]}), 400, "INVALID_INPUT"
    )
    assert "Simple Q&A" in body["error"]["details"]["builtin_cases"]
    assert_error(post(llm_mesh, path, {"models": [BUNDLED], "metrics": ["vibes"]}), 400, "INVALID_INPUT")
    assert_error(post(llm_mesh, path, {"models": []}), 400, "INVALID_INPUT")
    assert_error(post(llm_mesh, path, {"models": [BUNDLED], "repetitions": 50}), 400, "INVALID_INPUT")


def test_prefetched_prompt_is_served_from_the_cache(llm_mesh: Mesh) -> None:
    prompt = f"Story {uuid.uuid4().hex[:8]}: Once upon a time"
    prefetch = post(
        llm_mesh,
        "/api/ai/advanced/cache/prefetch",
        {
            "model_id": "default",
            "prompts": [prompt],
            "config": {"ttl": 600},
            "parameters": {"max_tokens": 16},
        },
    )
    assert prefetch.status_code == 200, prefetch.text
    stored = prefetch.json()
    entry = stored["entries"][0]
    assert entry["status"] == "stored" and entry["completion_tokens"] > 0 and entry["processing_time"] > 0
    assert stored["model_id"] == "smollm2-135m-instruct" and stored["cache"]["entries"] >= 1

    asked = {"model_id": "default", "prompt": prompt, "parameters": {"max_tokens": 16, "temperature": 0}}
    hit = post(llm_mesh, "/api/ai/inference", asked).json()
    assert hit["cached"] is True
    assert hit["processing_time"] < entry["processing_time"]
    assert hit["metadata"]["completion_tokens"] == entry["completion_tokens"]
    # The cached text is what the model generates for that request (a seed makes it another key).
    fresh = post(
        llm_mesh, "/api/ai/inference", {**asked, "parameters": {**asked["parameters"], "seed": 7}}
    ).json()
    assert fresh["cached"] is False and fresh["response"] == hit["response"]
    # Any other parameter is another request.
    other = post(llm_mesh, "/api/ai/inference", {**asked, "parameters": {"max_tokens": 15, "temperature": 0}})
    assert other.json()["cached"] is False

    again = post(
        llm_mesh, "/api/ai/advanced/cache/prefetch", {"prompts": [prompt], "parameters": {"max_tokens": 16}}
    )
    assert again.json()["entries"][0]["status"] == "already_cached"
    rate = httpx.get(f"{llm_mesh.base_url}/api/ai/advanced/monitoring/realtime").json()["metrics"][
        "cache_hit_rate"
    ]
    assert rate is not None and 0 < rate <= 1


def test_prefetch_bad_input(llm_mesh: Mesh) -> None:
    path = "/api/ai/advanced/cache/prefetch"
    body = assert_error(
        post(llm_mesh, path, {"prompts": ["Hi"], "parameters": {"temperature": 0.8}}), 400, "INVALID_INPUT"
    )
    assert "deterministic" in body["error"]["message"]
    assert_error(post(llm_mesh, path, {"prompts": []}), 400, "INVALID_INPUT")
    assert_error(post(llm_mesh, path, {"prompts": ["Hi"], "config": {"ttl": 0}}), 400, "INVALID_INPUT")
    assert_error(post(llm_mesh, path, {"model_id": "gpt-4", "prompts": ["Hi"]}), 404, "MODEL_NOT_FOUND")
