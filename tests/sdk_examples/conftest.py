"""Fixtures of the examples: the shared mesh as MESHSERVE_BASE_URL, a scratch working directory
with the files the examples name (model.onnx, model.pt, ace3.config.json), a registered user, and
the mesh with the bundled language model loaded (``llm``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.procs import Mesh


def write_image_model(path: Path) -> Path:
    """An ONNX model for 000's (N, 224, 224, 3) inputs: the mean colour per image, shape (N, 3)."""
    import onnx
    from onnx import TensorProto, helper

    inp = helper.make_tensor_value_info("INPUT", TensorProto.FLOAT, ["N", 224, 224, 3])
    out = helper.make_tensor_value_info("OUTPUT", TensorProto.FLOAT, ["N", 3])
    axes = helper.make_tensor("axes", TensorProto.INT64, [2], [1, 2])
    node = helper.make_node("ReduceMean", ["INPUT", "axes"], ["OUTPUT"], keepdims=0)
    graph = helper.make_graph([node], "mean_colour", [inp], [out], initializer=[axes])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the examples run: model.onnx and a TorchScript model.pt (2x+1) are there."""
    import torch

    path = tmp_path_factory.mktemp("examples")
    write_image_model(path / "model.onnx")

    class TwoXPlusOne(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2 + 1

    torch.jit.save(torch.jit.script(TwoXPlusOne()), str(path / "model.pt"))
    return path


@pytest.fixture
def at_mesh(mesh: Mesh, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mesh]:
    """Compat clients go to the test mesh (MESHSERVE_BASE_URL); cwd is the examples' directory."""
    monkeypatch.setenv("MESHSERVE_BASE_URL", mesh.base_url)
    monkeypatch.delenv("MESHSERVE_API_KEY", raising=False)
    monkeypatch.delenv("ACE3_API_KEY", raising=False)
    monkeypatch.chdir(workdir)
    (workdir / "ace3.config.json").write_text(
        json.dumps({"api_key": "key-from-config", "endpoint": "https://api.ace3.ai", "timeout": 12})
    )
    yield mesh


@pytest.fixture(scope="session")
def user(mesh: Mesh) -> tuple[str, str]:
    """A registered user (username, password) of the shared mesh."""
    import httpx

    name = f"sdk-{uuid.uuid4().hex[:8]}"
    password = "examples-pass-123"
    body = {"username": name, "email": f"{name}@example.com", "password": password}
    response = httpx.post(f"{mesh.base_url}/auth/register", json=body, timeout=30)
    assert response.status_code in (200, 201), response.text
    return name, password


@pytest.fixture(scope="session")
def llm(llm_mesh: Mesh) -> Mesh:
    """The mesh with the bundled language model loaded onto a worker: the examples' clients wait
    30 s at most, and the first load alone can take longer on 2 cores."""
    return llm_mesh
