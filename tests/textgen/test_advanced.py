"""Document 003's advanced inference on the real mesh: smart routing picks and runs the bundled
model, benchmarks measure it (and report an unknown model per model), and a prefetched prompt is
answered from the inference service's response cache."""

from __future__ import annotations

import tarfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.procs import Mesh
from tests.textgen.conftest import QUESTION
from tests.textgen.test_registered_model import tiny_model_dir  # noqa: F401  (a fixture)

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
    chosen = routing["candidates"][0]
    assert routing["selected_model"] == chosen["model_id"] == body["metadata"]["model"]
    # llm_mesh already ran a generation: the choice rests on measured latencies, and says so.
    measured = [c["latency_p50_ms"] for c in routing["candidates"] if c["latency_p50_ms"] is not None]
    assert chosen["latency_p50_ms"] == min(measured) > 0 and chosen["requests"] >= 1
    assert "lowest measured median latency" in routing["reason"] and "ms over" in routing["reason"]
    assert body["tokens_used"] > 0 and body["cached"] is False
    bundled = next(c for c in routing["candidates"] if c["model_id"] == BUNDLED)
    assert bundled["loaded"] and bundled["size_bytes"] > 50_000_000  # the GGUF file on disk
    if len(routing["candidates"]) == 1:  # alone in this session (no other language model registered)
        assert routing["prompt_format"] == "chat"  # an instruct model gets a user message
        assert "Paris" in body["response"]


def test_cost_routes_to_the_smallest_model(llm_mesh: Mesh, request: pytest.FixtureRequest) -> None:
    """A small Llama registered next to the bundled model: cost picks it (and runs it) although it
    was never measured; performance then follows the measurements."""
    model_dir: Path = request.getfixturevalue("tiny_model_dir")
    name = f"tiny-route-{uuid.uuid4().hex[:6]}"
    archive = model_dir.parent / f"{name}.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(model_dir, arcname=name)
    with archive.open("rb") as handle:
        stored = httpx.post(
            f"{llm_mesh.base_url}/v1/models",
            data={"name": name, "format": "transformers"},
            files={"file": (archive.name, handle)},
            timeout=300,
        )
    assert stored.status_code == 201, stored.text
    smart = {"prompt": "Once upon a time", "parameters": {"max_tokens": 4, "temperature": 0}}
    cost = post(llm_mesh, "/api/ai/advanced/inference/smart", {**smart, "priority": "cost"})
    assert cost.status_code == 200, cost.text
    routing = cost.json()["routing"]
    sizes = {c["model_id"]: c["size_bytes"] for c in routing["candidates"]}
    assert name in sizes and sizes[name] < sizes[BUNDLED]
    assert sizes[routing["selected_model"]] == min(sizes.values())
    assert "smallest model" in routing["reason"]
    if routing["selected_model"] == name:  # (another test's tiny model may tie with it)
        assert cost.json()["metadata"]["model"] == name
        assert next(c for c in routing["candidates"] if c["model_id"] == name)["source"] == "registry"
    fast = post(llm_mesh, "/api/ai/advanced/inference/smart", {**smart, "priority": "performance"}).json()
    candidates = fast["routing"]["candidates"]
    measured = [c["latency_p50_ms"] for c in candidates if c["latency_p50_ms"] is not None]
    assert (
        candidates[0]["latency_p50_ms"] == min(measured)
        and fast["metadata"]["model"] == candidates[0]["model_id"]
    )


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


def test_benchmark_stops_at_its_time_budget_and_reports_what_it_measured(llm_mesh: Mesh) -> None:
    path = "/api/ai/advanced/benchmark/run"
    # Every built-in case, 10 runs of 64 tokens, on the model twice: far more than 3 seconds' work.
    started = time.monotonic()
    reply = post(
        llm_mesh,
        path,
        {"models": [BUNDLED, BUNDLED], "max_tokens": 64, "repetitions": 10, "time_budget_seconds": 3},
    )
    elapsed = time.monotonic() - started
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "truncated" and body["truncated"] is True, body
    assert "time budget of 3 s" in body["budget_exceeded"]["reason"]
    first, second = body["results"]
    assert first["status"] == "truncated" and first["error"]["code"] == "DEADLINE_EXCEEDED"
    runs = sum(case["runs"] for case in first["test_cases"])
    assert 1 <= runs < 60 and first["summary"]["completion_tokens"] > 0  # what it measured, kept
    assert second["status"] == "truncated" and second["test_cases"] == []  # never started
    assert body["models_truncated"] == 2 and body["models_measured"] == 0
    assert elapsed < 3 + 5, elapsed  # a run cut by the budget is cancelled, not waited for
    complete = post(
        llm_mesh, path, {"models": [BUNDLED], "test_cases": ["Simple Q&A"], "max_tokens": 2, "repetitions": 1}
    )
    assert complete.json()["truncated"] is False and complete.json()["budget_exceeded"] is None


def test_benchmark_refuses_an_empty_model_name_naming_the_field(llm_mesh: Mesh) -> None:
    path = "/api/ai/advanced/benchmark/run"
    body = assert_error(post(llm_mesh, path, {"models": [BUNDLED, ""]}), 400, "INVALID_INPUT")
    assert body["error"]["details"]["field"] == "models[1]", body
    assert_error(post(llm_mesh, path, {"models": [BUNDLED], "time_budget_seconds": 0}), 400, "INVALID_INPUT")


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
