"""Document 003 endpoints that need no language model: the marketplace, ``/api/gateway/route``,
and the honest 501 of fine-tuning and A/B tests."""

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


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        (
            "/api/ai/advanced/finetune/create",
            {"base_model": "smollm2-135m-instruct", "training_data": [{"prompt": "a", "completion": "b"}]},
            "fine-tuning",
        ),
        ("/api/ai/advanced/ab-test/create", {"test_name": "t", "models": ["a", "b"]}, "A/B tests"),
    ],
)
def test_unsupported_features_say_so(mesh: Mesh, path: str, body: dict, needle: str) -> None:
    refused = assert_error(post(mesh, path, body), 501, "NOT_IMPLEMENTED")
    assert needle in refused["error"]["message"] and refused["error"]["suggestion"]
    assert "job_id" not in refused and "test_id" not in refused
    assert_error(post(mesh, path, {}), 400, "INVALID_INPUT")
