"""Document 003 endpoints that need no language model: the marketplace, ``/api/gateway/route``,
and 003's fine-tuning and A/B test examples, which name models this mesh does not have."""

from __future__ import annotations

import httpx
import pytest

from tests.procs import Mesh

pytestmark = pytest.mark.integration

MARKET = "/api/ai/models/marketplace"


def get(mesh: Mesh, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{mesh.base_url}{path}", params=params, timeout=60)


def post(mesh: Mesh, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{mesh.base_url}{path}", json=body, timeout=60)


def assert_error(reply: httpx.Response, status: int, code: str) -> dict:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["error"]["code"] == code and "suggestion" in body["error"] and body["request_id"], body
    return body


def test_marketplace_lists_filters_and_sorts(mesh: Mesh) -> None:
    assert post(mesh, "/predict", {"model_name": "example", "inputs": [1, 2, 3]}).status_code == 200
    everything = get(mesh, MARKET).json()
    names = [m["name"] for m in everything["models"]]
    assert names == sorted(names) and {"example", "smollm2-135m-instruct", "whisper-tiny"} <= set(names)
    assert everything["total"] == len(names) and "text-generation" in everything["categories"]
    smol = next(m for m in everything["models"] if m["name"] == "smollm2-135m-instruct")
    assert smol["registered"] and "chat" in smol["capabilities"] and smol["size_bytes"] > 50_000_000
    assert smol["pricing"]["cost_per_1k_tokens"] == 0 and smol["pricing"]["self_hosted"] is True

    texts = get(mesh, MARKET, category="text-generation").json()["models"]
    assert texts and all(
        m["category"] == "text-generation" or "text-generation" in m["capabilities"] for m in texts
    )
    assert "example" not in {m["name"] for m in texts}

    popular = get(mesh, MARKET, sort_by="popularity").json()
    counts = [m["popularity"]["requests"] or 0 for m in popular["models"]]
    assert counts == sorted(counts, reverse=True) and popular["sort"] == {"by": "popularity", "order": "desc"}
    example = next(m for m in popular["models"] if m["name"] == "example")
    assert example["popularity"]["requests"] >= 1  # the /predict above, measured by the inference service
    whisper = next(m for m in popular["models"] if m["name"] == "whisper-tiny")
    assert whisper["popularity"]["requests"] is None  # not counted by the inference service

    sizes = [m["size_bytes"] for m in get(mesh, MARKET, sort_by="size", order="desc").json()["models"]]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 0
    by_cost = get(mesh, MARKET, sort_by="cost").json()["models"]
    assert {m["pricing"]["cost_per_1k_tokens"] for m in by_cost} == {0.0}
    assert [m["name"] for m in by_cost] == sorted(m["name"] for m in by_cost)  # ties in name order

    assert_error(get(mesh, MARKET, sort_by="rating"), 400, "INVALID_INPUT")
    assert_error(get(mesh, MARKET, order="sideways"), 400, "INVALID_INPUT")
    assert get(mesh, MARKET, category="no-such-category").json()["models"] == []


def test_gateway_route_dispatches_to_the_documented_route(mesh: Mesh) -> None:
    direct = get(mesh, "/api/ai/models", capabilities="tensor").json()
    routed = post(
        mesh,
        "/api/gateway/route",
        {"service": "ai_core", "endpoint": "/models", "method": "GET", "payload": {"capabilities": "tensor"}},
    )
    assert routed.status_code == 200, routed.text
    assert routed.headers["x-gateway-target"] == "GET /api/ai/models"
    assert [m["name"] for m in routed.json()["models"]] == [m["name"] for m in direct["models"]]
    assert "example" in [m["name"] for m in direct["models"]]
    # A target's own error comes back as the target gave it (003's envelope, its status).
    failed = post(
        mesh,
        "/api/gateway/route",
        {
            "service": "ai_core",
            "endpoint": "/advanced/scaling/autoscale",
            "payload": {"scaling_type": "vertical"},
        },
    )
    assert_error(failed, 400, "INVALID_INPUT")
    assert failed.headers["x-gateway-target"] == "POST /api/ai/advanced/scaling/autoscale"


def test_gateway_route_bad_targets(mesh: Mesh) -> None:
    path = "/api/gateway/route"
    body = assert_error(post(mesh, path, {"service": "billing", "endpoint": "/invoices"}), 404, "NOT_FOUND")
    assert "ai_core" in body["error"]["details"]["available_services"]
    body = assert_error(post(mesh, path, {"service": "ai_core", "endpoint": "/teleport"}), 404, "NOT_FOUND")
    assert "/inference" in body["error"]["details"]["available_endpoints"]
    assert_error(
        post(mesh, path, {"service": "ai_core", "endpoint": "/inference", "method": "GET"}),
        400,
        "INVALID_INPUT",
    )
    assert_error(
        post(mesh, path, {"service": "ai_core", "endpoint": "/x", "method": "BREW"}), 400, "INVALID_INPUT"
    )
    assert_error(post(mesh, path, {"endpoint": "/inference"}), 400, "INVALID_INPUT")


def test_003_training_and_experiment_examples_name_their_unknown_models(mesh: Mesh) -> None:
    """003's own bodies name hosted models this mesh does not have: each is a 404 naming the model
    (no run or test starts); an empty body is a 400."""
    finetune = {
        "base_model": "gpt-3.5-turbo",
        "training_data": [
            {"prompt": "Classify this email...", "completion": "spam"},
            {"prompt": "Analyze sentiment...", "completion": "positive"},
        ],
        "config": {"epochs": 3, "learning_rate": 0.0001, "batch_size": 8},
    }
    refused = assert_error(post(mesh, "/api/ai/advanced/finetune/create", finetune), 404, "MODEL_NOT_FOUND")
    assert "gpt-3.5-turbo" in refused["error"]["message"] and "fine_tune_id" not in refused
    ab_test = {
        "test_name": "GPT-4 vs Claude-3 Comparison",
        "models": ["gpt-4", "claude-3-opus"],
        "config": {"duration_days": 7, "traffic_split": "50/50", "success_metric": "user_satisfaction"},
    }
    refused = assert_error(post(mesh, "/api/ai/advanced/ab-test/create", ab_test), 404, "MODEL_NOT_FOUND")
    assert refused["error"]["details"]["field"] == "models[0]" and "test_id" not in refused
    for path in ("/api/ai/advanced/finetune/create", "/api/ai/advanced/ab-test/create"):
        assert_error(post(mesh, path, {}), 400, "INVALID_INPUT")


def test_a_fine_tune_cannot_become_a_version_of_a_tensor_model(mesh: Mesh) -> None:
    """The built-in ``example`` is a tensor model: a language model cannot be its next version, so
    the run is refused before it trains, not when it registers."""
    finetune = {
        "base_model": "default",
        "training_data": [{"prompt": "Say hi", "completion": "hi"}] * 4,
        "output_name": "example",
    }
    refused = assert_error(post(mesh, "/api/ai/advanced/finetune/create", finetune), 409, "ALREADY_EXISTS")
    assert refused["error"]["details"]["field"] == "output_name" and "fine_tune_id" not in refused
