"""Registry jobs end to end on real Triton workers: TorchScript → ONNX conversion, URL import from a
local HTTP server, and optimisation (onnxruntime graph levels, FP16) through 000's and 003's REST
paths; each resulting model predicts what the reference runtime computes."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import numpy as np
import pytest

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import registry_pb2 as rpb
from meshserve.v1 import registry_pb2_grpc as rpb_grpc
from tests.inference.models import mlp, onnx_bytes, onnx_reference, torch_reference
from tests.procs import Mesh

pytestmark = pytest.mark.slow


def v2_predict(http: httpx.Client, name: str, version: str, x: np.ndarray) -> np.ndarray:
    """Runs a model version through the KServe v2 surface."""
    meta = http.get(f"/v2/models/{name}/versions/{version}").json()
    body = {
        "inputs": [
            {
                "name": meta["inputs"][0]["name"],
                "shape": list(x.shape),
                "datatype": "FP32",
                "data": x.ravel().tolist(),
            }
        ]
    }
    reply = http.post(f"/v2/models/{name}/versions/{version}/infer", json=body)
    assert reply.status_code == 200, reply.text
    out = reply.json()["outputs"][0]
    return np.asarray(out["data"], dtype=np.float32).reshape(out["shape"])


@pytest.fixture(scope="module")
def registry_stub(triton_mesh: Mesh) -> Iterator[rpb_grpc.RegistryServiceStub]:
    """A direct gRPC stub of the mesh's registry."""
    channel = grpc.insecure_channel(triton_mesh.address("registry"))
    yield rpb_grpc.RegistryServiceStub(channel)
    channel.close()


def test_torchscript_converted_to_onnx_predicts_like_torch(
    http: httpx.Client,
    uploaded: dict[str, bytes],
    registry_stub: rpb_grpc.RegistryServiceStub,
    batch: np.ndarray,
) -> None:
    reply = registry_stub.ConvertModel(
        rpb.ConvertModelRequest(ref=common.ModelRef(name="mlp-ts"), target_format=common.MODEL_FORMAT_ONNX),
        timeout=120,
    )
    model = reply.model
    assert model.name == "mlp-ts-onnx" and model.format == common.MODEL_FORMAT_ONNX
    assert model.labels["converted_from"] == "mlp-ts:1" and list(model.inputs[0].shape) == [-1, 4]
    got = v2_predict(http, model.name, model.version, batch)
    np.testing.assert_allclose(got, torch_reference(uploaded["mlp-ts"], batch), rtol=1e-5, atol=1e-6)


@contextlib.contextmanager
def serving(directory: Path) -> Iterator[str]:
    """A local HTTP server for a directory on a free port; yields its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_url_import_streams_progress_and_predicts(
    http: httpx.Client, registry_stub: rpb_grpc.RegistryServiceStub, tmp_path: Path, batch: np.ndarray
) -> None:
    data = onnx_bytes(mlp(5, width=512))  # ~10 KB: several progress messages are not guaranteed
    (tmp_path / "remote.onnx").write_bytes(data)
    with serving(tmp_path) as base:
        messages = list(
            registry_stub.ImportModel(
                rpb.ImportModelRequest(source=f"{base}/remote.onnx", name="from-url"), timeout=60
            )
        )
        assert messages[-1].phase == "stored" and messages[-1].model.name == "from-url"
        assert messages[-1].model.source == "url" and messages[-1].model.size_bytes == len(data)
        assert any(m.phase == "downloading" and m.bytes_total == len(data) for m in messages)
        reply = http.post("/models/download", json={"source": "url", "model_id": f"{base}/missing.onnx"})
    assert reply.status_code in (400, 502, 503), reply.text
    assert reply.json()["success"] is False and "404" in reply.json()["error"]
    got = np.asarray(
        http.post("/v1/models/from-url/predict", json={"inputs": batch.tolist()}).json()["outputs"]
    )
    np.testing.assert_allclose(got, onnx_reference(data, batch), rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def to_optimize(http: httpx.Client) -> bytes:
    """A model of its own (optimising adds versions, which other tests must not see)."""
    data = onnx_bytes(mlp(9, width=64))
    reply = http.post(
        "/v1/models", data={"name": "opt-mlp", "format": "onnx"}, files={"file": ("m.onnx", data)}
    )
    assert reply.status_code == 201, reply.text
    return data


@pytest.mark.parametrize(
    ("level", "fp16", "tolerance"),
    [("basic", False, 1e-5), ("aggressive", False, 1e-5), ("standard", True, 2e-2)],
)
def test_optimized_versions_match_the_original(
    http: httpx.Client, to_optimize: bytes, batch: np.ndarray, level: str, fp16: bool, tolerance: float
) -> None:
    reply = http.post("/v1/models/opt-mlp/optimize", json={"level": level, "options": {"use_fp16": fp16}})
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["optimized"] is True and body["name"] == "opt-mlp" and body["version"] != "1"
    assert body["applied"][0].startswith("onnxruntime graph optimisation")
    assert ("FP16" in " ".join(body["applied"])) is fp16
    newest = http.get("/v1/models/opt-mlp").json()  # the optimised version is now the default
    assert (newest["version"], newest["optimized"]) == (body["version"], True)
    got = v2_predict(http, "opt-mlp", body["version"], batch)
    np.testing.assert_allclose(got, onnx_reference(to_optimize, batch), rtol=tolerance, atol=tolerance)


def test_optimize_refusals_and_003_path(
    http: httpx.Client, to_optimize: bytes, uploaded: dict[str, bytes]
) -> None:
    reply = http.post("/v1/models/opt-mlp/optimize", json={"level": "ludicrous"})
    assert reply.status_code == 400 and "level" in reply.json()["error"]["message"]
    reply = http.post("/v1/models/mlp-ts/optimize", json={})
    assert reply.status_code == 400 and "ONNX" in reply.json()["error"]["message"]
    reply = http.post(
        "/api/ai/advanced/optimize/model",
        json={"model_id": "opt-mlp", "request_pattern": {"concurrent_requests": 25}, "quantization": "4-bit"},
    )
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["code"] == "INVALID_INPUT" and "16-bit" in error["message"] and error["suggestion"]
    reply = http.post(
        "/api/ai/advanced/optimize/model",
        json={"model_id": "opt-mlp", "request_pattern": {"frequency": 150, "concurrent_requests": 25}},
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["optimized"] is True and body["model"]["labels"]["optimize_batch_size"] == "25"
    assert body["request_pattern"] == {"frequency": 150, "concurrent_requests": 25}
