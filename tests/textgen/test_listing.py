"""A loaded language model is listed under its public id, loaded, with measured memory, on every
surface (the inference service names it so; its Triton model name stays internal)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as pb
from services.common.bundled import SMOLLM2_GGUF
from tests.procs import Mesh

pytestmark = [pytest.mark.slow, pytest.mark.integration]

MODEL = "smollm2-135m-instruct"


def test_model_states_name_the_language_model_by_its_id(inference_stub: Any) -> None:
    states = inference_stub.ListModelStates(pb.ListModelStatesRequest(), timeout=30).states
    assert not [s.model.name for s in states if s.model.name.startswith("llm--")]
    (state,) = [s for s in states if s.model.name == MODEL]
    assert state.status == common.MODEL_STATUS_LOADED
    assert state.triton_name == f"llm--{MODEL}" and state.worker_ids
    # resident memory of the worker's model instance: at least the GGUF weights llama.cpp maps
    assert SMOLLM2_GGUF.path is not None
    assert state.memory_bytes > SMOLLM2_GGUF.path.stat().st_size
    # which engine serves it, and why
    assert (state.engine, state.engine_reason) == ("llama.cpp", "GGUF file")


def test_generation_statistics_name_the_engine(inference_stub: Any) -> None:
    (stats,) = inference_stub.GetGenerationStats(
        pb.GetGenerationStatsRequest(model_name=MODEL), timeout=30
    ).models
    assert (stats.engine, stats.engine_reason, stats.device) == ("llama.cpp", "GGUF file", "cpu")
    assert stats.threads >= 1 and stats.slots >= 1 and stats.context_length >= 512


def test_generation_statistics_are_reported_under_the_id(inference_stub: Any) -> None:
    names = [m.model_name for m in inference_stub.GetStats(pb.GetStatsRequest(), timeout=30).models]
    assert MODEL in names and not [n for n in names if n.startswith("llm--")]
    (only,) = inference_stub.GetStats(pb.GetStatsRequest(model_name=MODEL), timeout=30).models
    assert only.model_name == MODEL and only.requests >= 1 and only.replicas >= 1


def test_every_surface_lists_the_loaded_language_model(llm_mesh: Mesh) -> None:
    base = llm_mesh.base_url
    listed = httpx.get(f"{base}/api/v1/models", timeout=30).json()
    (model,) = [m for m in listed["models"] if m["id"] == MODEL]
    assert model["loaded"] is True and model["memory_bytes"] > 90 * 2**20  # the Q4_1 weights at least
    assert model["memory_usage"].endswith(("MB", "GB")) and model["backend"] in ("cpu", "cuda")
    assert SMOLLM2_GGUF.path is not None
    assert model["size"] == f"{SMOLLM2_GGUF.path.stat().st_size / 2**20:.1f}MB" != "0B"
    assert listed["loaded_models"] >= 1
    one = httpx.get(f"{base}/api/v1/models/{MODEL}", timeout=30).json()["model"]
    assert one["loaded"] is True and one["parameters"] == 134_515_008
    assert (one["engine"], one["engine_reason"]) == ("llama.cpp", "GGUF file")
    assert MODEL in httpx.get(f"{base}/info", timeout=30).json()["models"]
    managed = httpx.get(f"{base}/models/managed", timeout=30).json()["models"]
    assert [m["status"] for m in managed if m["name"] == MODEL] == ["loaded"]
    assert not [m["name"] for m in managed if m["name"].startswith("llm--")]
