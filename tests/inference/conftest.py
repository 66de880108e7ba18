"""One Triton-backed mesh for every test of this area (two workers, a small upload limit)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from tests.inference.models import onnx_bytes, torchscript_bytes
from tests.procs import Mesh, run_mesh

UPLOAD_LIMIT = 2_000_000


@pytest.fixture(scope="session")
def triton_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    """The whole mesh with two Triton workers."""
    env = {"MESHSERVE_INFERENCE_WORKERS": "2", "MESHSERVE_REGISTRY_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT)}
    with run_mesh(tmp_path_factory.mktemp("triton-mesh"), env) as running:
        yield running


@pytest.fixture(scope="session")
def http(triton_mesh: Mesh) -> Iterator[httpx.Client]:
    """A client of the gateway."""
    with httpx.Client(base_url=triton_mesh.base_url, timeout=120) as client:
        yield client


@pytest.fixture(scope="session")
def onnx_model() -> bytes:
    """The MLP as ONNX."""
    return onnx_bytes()


@pytest.fixture(scope="session")
def torchscript_model() -> bytes:
    """Another MLP as TorchScript."""
    return torchscript_bytes()


@pytest.fixture(scope="session")
def uploaded(http: httpx.Client, onnx_model: bytes, torchscript_model: bytes) -> dict[str, bytes]:
    """Both models uploaded through POST /v1/models: name → artifact bytes."""
    reply = http.post(
        "/v1/models", data={"name": "mlp-onnx", "format": "onnx"}, files={"file": ("mlp.onnx", onnx_model)}
    )
    assert reply.status_code == 201, reply.text
    reply = http.post(
        "/v1/models",
        data={"name": "mlp-ts", "format": "torchscript", "input_shape": "-1,4"},
        files={"file": ("mlp.pt", torchscript_model)},
    )
    assert reply.status_code == 201, reply.text
    return {"mlp-onnx": onnx_model, "mlp-ts": torchscript_model}


@pytest.fixture
def batch() -> np.ndarray:
    """A fixed FP32 batch of three rows."""
    return np.random.default_rng(7).standard_normal((3, 4)).astype(np.float32)
