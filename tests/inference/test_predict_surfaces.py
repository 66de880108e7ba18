"""Issue 3, "It must show" 1: uploaded ONNX and TorchScript models predicted through every surface
equal onnxruntime / torch run directly (relative error ≤ 1e-5)."""

from __future__ import annotations

import grpc
import httpx
import numpy as np
import pytest
import tritonclient.http as triton_http

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.inference.tensors import from_numpy, to_numpy
from tests.inference.models import onnx_reference, torch_reference
from tests.procs import Mesh

pytestmark = pytest.mark.slow
REFERENCE = {"mlp-onnx": onnx_reference, "mlp-ts": torch_reference}


def close(got: object, want: np.ndarray) -> None:
    """Relative error ≤ 1e-5 elementwise (absolute floor for values near zero)."""
    np.testing.assert_allclose(np.asarray(got, dtype=np.float32), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["mlp-onnx", "mlp-ts"])
def test_upload_lists_model_with_signature(http: httpx.Client, uploaded: dict[str, bytes], name: str) -> None:
    models = http.get("/v1/models").json()
    assert name in [m["id"] for m in models["data"]]
    entry = next(m for m in models["models"] if m["name"] == name)
    assert entry["status"] in ("ready", "loaded", "loading")
    assert entry["inputs"][0]["datatype"] == "FP32" and entry["inputs"][0]["shape"] == [-1, 4]
    assert entry["outputs"][0]["shape"] == [-1, 3]


@pytest.mark.parametrize("name", ["mlp-onnx", "mlp-ts"])
def test_rest_surfaces_match_direct_runtime(
    http: httpx.Client, uploaded: dict[str, bytes], batch: np.ndarray, name: str
) -> None:
    want = REFERENCE[name](uploaded[name], batch)
    reply = http.post(f"/v1/models/{name}/predict", json={"inputs": batch.tolist()})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"outputs", "latency_ms", "request_id"} and body["latency_ms"] > 0
    close(body["outputs"], want)

    reply = http.post("/predict", json={"model_name": name, "inputs": batch.tolist()})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["success"] is True and body["model_info"] == {"model": name, "version": "1", "device": "cpu"}
    close(body["result"], want)

    meta = http.get(f"/v2/models/{name}").json()
    v2_input = {"name": meta["inputs"][0]["name"], "shape": [3, 4], "datatype": "FP32"}
    reply = http.post(
        f"/v2/models/{name}/infer", json={"inputs": [{**v2_input, "data": batch.reshape(-1).tolist()}]}
    )
    assert reply.status_code == 200, reply.text
    output = reply.json()["outputs"][0]
    assert output["shape"] == [3, 3]
    close(np.reshape(output["data"], output["shape"]), want)


@pytest.mark.parametrize("name", ["mlp-onnx", "mlp-ts"])
def test_tritonclient_http_against_gateway(
    triton_mesh: Mesh, uploaded: dict[str, bytes], batch: np.ndarray, name: str
) -> None:
    client = triton_http.InferenceServerClient(triton_mesh.base_url.removeprefix("http://"))
    assert client.is_server_live() and client.is_model_ready(name)
    meta = client.get_model_metadata(name)
    item = triton_http.InferInput(meta["inputs"][0]["name"], list(batch.shape), "FP32")
    item.set_data_from_numpy(batch)  # binary tensor extension
    result = client.infer(name, [item])
    close(result.as_numpy(meta["outputs"][0]["name"]), REFERENCE[name](uploaded[name], batch))


@pytest.mark.parametrize("name", ["mlp-onnx", "mlp-ts"])
async def test_direct_grpc_matches(
    triton_mesh: Mesh, uploaded: dict[str, bytes], batch: np.ndarray, name: str
) -> None:
    async with grpc.aio.insecure_channel(triton_mesh.address("inference")) as channel:
        stub = ipb_grpc.InferenceServiceStub(channel)
        reply = await stub.Predict(
            ipb.PredictRequest(model=common.ModelRef(name=name), inputs=[from_numpy("", batch)]), timeout=60
        )
    assert reply.device == "cpu" and reply.worker_id.startswith("worker-")
    close(to_numpy(reply.outputs[0]), REFERENCE[name](uploaded[name], batch))


def test_example_quick_start(http: httpx.Client) -> None:
    """Document 001's quick start as written: example computes 2x + 1."""
    reply = http.post("/predict", json={"model_name": "example", "inputs": [1, 2, 3, 4, 5]})
    assert reply.status_code == 200, reply.text
    assert reply.json()["result"] == [3.0, 5.0, 7.0, 9.0, 11.0]
