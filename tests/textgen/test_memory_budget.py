"""Language models load and unload like any model (document 004), and on demand under a memory
budget: a mesh whose budget holds one of two registered language models serves requests to both,
alternately, unloading the least recently used one, and never holds more than the budget."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as pb
from meshserve.v1 import inference_pb2_grpc as pb_grpc
from tests.procs import Mesh, free_port, run_mesh
from tests.textgen.conftest import greedy_chat, register_bundled_gguf

pytestmark = [pytest.mark.slow, pytest.mark.integration]

BUDGET_MB = 480  # one SmolLM2 with 2 slots (384 MiB estimated, about 275 measured), not two
METRICS_PORT = free_port()
MODELS = ("budget-llm-a", "budget-llm-b")


@pytest.fixture(scope="module")
def budget_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    env = {
        "MESHSERVE_INFERENCE_MEMORY_BUDGET_MB": str(BUDGET_MB),
        "MESHSERVE_INFERENCE_LLM_MAX_BATCH": "2",
        "MESHSERVE_INFERENCE_METRICS_PORT": str(METRICS_PORT),
    }
    with run_mesh(tmp_path_factory.mktemp("budget"), env) as mesh:
        for name in MODELS:
            register_bundled_gguf(mesh, name)
        yield mesh


def chat(mesh: Mesh, model: str) -> dict[str, Any]:
    return greedy_chat(mesh, model, "Say hi.", 6)


def details(mesh: Mesh, model: str) -> dict[str, Any]:
    reply = httpx.get(f"{mesh.base_url}/api/v1/models/{model}", timeout=60)
    assert reply.status_code == 200, reply.text
    return dict(reply.json()["model"])


def states_of(mesh: Mesh, model: str) -> list[pb.ModelState]:
    """The inference service's states of a model's Triton models (its stored weights, its variants)."""
    with grpc.insecure_channel(mesh.address("inference")) as channel:
        stub = pb_grpc.InferenceServiceStub(channel)
        states = stub.ListModelStates(pb.ListModelStatesRequest(), timeout=60).states
    return [s for s in states if s.model.name == model]


def resident_bytes(mesh: Mesh) -> int:
    """What every loaded model holds now, as the workers measure it."""
    with grpc.insecure_channel(mesh.address("inference")) as channel:
        states = (
            pb_grpc.InferenceServiceStub(channel)
            .ListModelStates(pb.ListModelStatesRequest(), timeout=60)
            .states
        )
    return sum(s.memory_bytes for s in states if s.status == common.MODEL_STATUS_LOADED)


def metric(name: str, model: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=30).text
    found = re.search(rf'^{name}\{{model="llm--{model}--[0-9a-f]+"\}} ([0-9.e+]+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_language_model_load_details_and_unload(budget_mesh: Mesh) -> None:
    model = MODELS[0]
    loaded = httpx.post(
        f"{budget_mesh.base_url}/api/v1/models/{model}/load", json={"backend": "cpu"}, timeout=300
    )
    assert loaded.status_code == 200, loaded.text
    body = loaded.json()["model"]
    assert body["loaded"] is True and body["memory_bytes"] > 90 * 2**20 and body["workers"]
    assert body["engine"] == "llama.cpp" and body["quantization"] == "Q4_1"
    chat(budget_mesh, model)
    shown = details(budget_mesh, model)
    assert shown["loaded"] is True and shown["engine"] == "llama.cpp"
    assert (
        shown["context_length"] == 2048 and shown["vocab_size"] == 49152 and shown["quantization"] == "Q4_1"
    )
    assert shown["tokens_per_second"] > 0  # over the last minute, this test's generation included

    unloaded = httpx.delete(f"{budget_mesh.base_url}/api/v1/models/{model}/unload", timeout=120)
    assert unloaded.status_code == 200, unloaded.text
    assert unloaded.json()["freed_memory_bytes"] > 90 * 2**20
    assert details(budget_mesh, model)["loaded"] is False
    assert chat(budget_mesh, model)["choices"][0]["message"]["content"]  # loads again on demand
    assert details(budget_mesh, model)["loaded"] is True


def test_cuda_backend_without_cuda_is_refused(budget_mesh: Mesh) -> None:
    reply = httpx.post(
        f"{budget_mesh.base_url}/api/v1/models/{MODELS[0]}/load", json={"backend": "cuda"}, timeout=60
    )
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert "CUDA" in error["message"] and error["details"]["field"] == "backend"


def test_alternating_models_share_a_budget_that_fits_one(budget_mesh: Mesh) -> None:
    budget = BUDGET_MB * 2**20
    evictions_before = {m: metric("meshserve_model_evictions_total", m) for m in MODELS}
    for round_ in range(3):
        for model in MODELS:
            assert chat(budget_mesh, model)["choices"][0]["message"]["content"], (round_, model)
            resident = resident_bytes(budget_mesh)
            assert 0 < resident <= budget, f"{resident / 2**20:.0f} MB loaded, budget {BUDGET_MB} MB"
    listed = {
        m["id"]: m for m in httpx.get(f"{budget_mesh.base_url}/api/v1/models", timeout=60).json()["models"]
    }
    assert listed[MODELS[1]]["loaded"] is True and listed[MODELS[0]]["loaded"] is False
    assert listed[MODELS[0]]["evictions"] >= 2 and listed[MODELS[1]]["evictions"] >= 2
    assert listed[MODELS[0]]["loads"] >= 3 and listed[MODELS[1]]["loads"] >= 3
    for model in MODELS:
        assert metric("meshserve_model_evictions_total", model) - evictions_before[model] >= 2
        assert metric("meshserve_model_loads_total", model) >= 3


def test_load_with_quantization_and_max_memory(budget_mesh: Mesh) -> None:
    model = MODELS[0]
    url = f"{budget_mesh.base_url}/api/v1/models/{model}/load"
    loaded = httpx.post(url, json={"quantization": "int8", "max_memory": "1GB"}, timeout=600)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["model"]["quantization"] == "Q8_0"  # llama.cpp re-quantized the Q4_1 file
    assert chat(budget_mesh, model)["choices"][0]["message"]["content"]
    assert details(budget_mesh, model)["quantization"] == "Q8_0"  # the name now serves the variant
    # Only the variant is held: nothing reaches the stored weights any more, so they left the worker;
    # each Triton model reports its own engine's facts.
    [held] = [s for s in states_of(budget_mesh, model) if s.worker_ids]
    assert held.triton_name.endswith("q8_0") and held.quantization == "Q8_0", held

    back = httpx.post(url, json={"quantization": "none"}, timeout=600)
    assert back.status_code == 200, back.text
    assert back.json()["model"]["quantization"] == "Q4_1"
    [held] = [s for s in states_of(budget_mesh, model) if s.worker_ids]
    assert not held.triton_name.endswith("q8_0") and held.quantization == "Q4_1", held
    unloaded = httpx.delete(f"{budget_mesh.base_url}/api/v1/models/{model}/unload", timeout=60)
    assert unloaded.status_code == 200, unloaded.text
    assert not [s for s in states_of(budget_mesh, model) if s.worker_ids]

    too_small = httpx.post(url, json={"max_memory": "100MB"}, timeout=60)
    assert too_small.status_code == 503, too_small.text
    error = too_small.json()["error"]
    assert error["code"] == "INSUFFICIENT_MEMORY" and error["details"]["max_memory_bytes"] == 100 * 10**6
    assert error["details"]["required_bytes"] > 100 * 10**6
    bad = httpx.post(url, json={"quantization": "3-bit"}, timeout=60)
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "quantization"
