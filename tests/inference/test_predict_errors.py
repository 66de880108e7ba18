"""Issue 3, "It must show" 3: wrong shape, wrong dtype, unknown model and unloaded model give the
documented code and status on each surface."""

from __future__ import annotations

import grpc
import httpx
import numpy as np
import pytest

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.common.errors import MeshError
from services.inference.tensors import from_numpy
from tests.procs import Mesh

pytestmark = pytest.mark.slow


def check(reply: httpx.Response, status: int, code: str) -> None:
    """The status and the reason code in the envelope of the surface that answered."""
    assert reply.status_code == status, reply.text
    body = reply.json()
    if "success" in body and isinstance(body.get("error"), dict):  # 004
        assert body["success"] is False and body["error"]["code"] == code
    elif "success" in body:  # 001
        assert body["success"] is False and body["code"] == code and body["error"] and body["detail"]
    elif isinstance(body.get("error"), dict):  # 000 / OpenAI
        assert body["error"]["reason"] == code and body["error"]["message"]
    else:  # KServe v2
        assert isinstance(body["error"], str) and body["error"]


def rest_calls(
    model: str, rows: object, v2_datatype: str = "FP32", v2_shape: list[int] | None = None
) -> list:
    flat = np.asarray(rows).reshape(-1).tolist()
    return [
        ("POST", f"/v1/models/{model}/predict", {"inputs": rows}),
        ("POST", "/predict", {"model_name": model, "inputs": rows}),
        (
            "POST",
            f"/v2/models/{model}/infer",
            {
                "inputs": [
                    {
                        "name": "x",
                        "shape": v2_shape or list(np.shape(rows)),
                        "datatype": v2_datatype,
                        "data": flat,
                    }
                ]
            },
        ),
    ]


def test_wrong_shape(http: httpx.Client, uploaded: dict[str, bytes]) -> None:
    for method, path, body in rest_calls("mlp-onnx", [[1.0, 2.0, 3.0]]):
        check(http.request(method, path, json=body), 400, "INVALID_INPUT")


def test_wrong_dtype(http: httpx.Client, uploaded: dict[str, bytes]) -> None:
    for method, path, body in rest_calls("mlp-onnx", [["a", "b", "c", "d"]])[:2]:
        check(http.request(method, path, json=body), 400, "INVALID_INPUT")
    reply = http.post(
        "/v2/models/mlp-onnx/infer",
        json={"inputs": [{"name": "x", "shape": [1, 4], "datatype": "INT64", "data": [1, 2, 3, 4]}]},
    )
    check(reply, 400, "INVALID_INPUT")
    assert "INT64" in reply.json()["error"] and "FP32" in reply.json()["error"]


def test_an_input_given_twice_is_refused_not_run_with_the_last(
    http: httpx.Client, uploaded: dict[str, bytes]
) -> None:
    given = {"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}
    reply = http.post("/v2/models/mlp-onnx/infer", json={"inputs": [given, {**given, "data": [5, 6, 7, 8]}]})
    check(reply, 400, "INVALID_INPUT")
    assert "'x' is given more than once" in reply.json()["error"]


def test_an_empty_input_is_refused_in_the_caller_s_terms(
    http: httpx.Client, uploaded: dict[str, bytes]
) -> None:
    empty = {"name": "x", "shape": [0, 4], "datatype": "FP32", "data": []}
    reply = http.post("/v2/models/mlp-onnx/infer", json={"inputs": [empty]})
    check(reply, 400, "INVALID_INPUT")
    assert "is empty (shape [0, 4])" in reply.json()["error"] and "Triton" not in reply.json()["error"]


def test_unknown_model(http: httpx.Client, triton_mesh: Mesh) -> None:
    for method, path, body in rest_calls("no-such-model", [[1.0, 2.0, 3.0, 4.0]]):
        check(http.request(method, path, json=body), 404, "MODEL_NOT_FOUND")
    check(http.get("/api/v1/models/no-such-model"), 404, "MODEL_NOT_FOUND")
    check(http.post("/api/v1/models/no-such-model/load"), 404, "MODEL_NOT_FOUND")


async def test_grpc_errors(triton_mesh: Mesh, uploaded: dict[str, bytes]) -> None:
    async with grpc.aio.insecure_channel(triton_mesh.address("inference")) as channel:
        stub = ipb_grpc.InferenceServiceStub(channel)
        cases = [
            ("mlp-onnx", np.zeros((1, 3), np.float32), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_INPUT"),
            ("mlp-onnx", np.zeros((1, 4), np.float64), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_INPUT"),
            ("no-such-model", np.zeros((1, 4), np.float32), grpc.StatusCode.NOT_FOUND, "MODEL_NOT_FOUND"),
        ]
        for model, array, status, code in cases:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Predict(
                    ipb.PredictRequest(model=common.ModelRef(name=model), inputs=[from_numpy("x", array)])
                )
            assert caught.value.code() == status
            assert MeshError.from_rpc_error(caught.value).code == code


def test_unloaded_model_everywhere(http: httpx.Client, triton_mesh: Mesh, uploaded: dict[str, bytes]) -> None:
    rows = [[1.0, 2.0, 3.0, 4.0]]
    assert http.post("/v1/models/mlp-onnx/predict", json={"inputs": rows}).status_code == 200
    loaded = http.get("/api/v1/models/mlp-onnx").json()["model"]
    assert loaded["loaded"] is True and loaded["memory_bytes"] > 0
    unload = http.delete("/api/v1/models/mlp-onnx/unload")
    assert unload.status_code == 200 and unload.json()["freed_memory_bytes"] > 0
    again = http.delete("/api/v1/models/mlp-onnx/unload")  # nothing loaded now: nothing to free
    assert again.status_code == 200 and again.json()["freed_memory_bytes"] == 0, again.text
    try:
        for method, path, body in rest_calls("mlp-onnx", rows):
            check(http.request(method, path, json=body), 409, "MODEL_NOT_LOADED")
        with grpc.insecure_channel(triton_mesh.address("inference")) as channel:
            stub = ipb_grpc.InferenceServiceStub(channel)
            with pytest.raises(grpc.RpcError) as caught:
                stub.Predict(
                    ipb.PredictRequest(
                        model=common.ModelRef(name="mlp-onnx"),
                        inputs=[from_numpy("x", np.zeros((1, 4), np.float32))],
                    )
                )
            assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert http.get("/api/v1/models/mlp-onnx").json()["model"]["loaded"] is False
    finally:
        load = http.post("/api/v1/models/mlp-onnx/load", json={"backend": "cpu"})
        assert load.status_code == 200 and load.json()["model"]["loaded"] is True
    assert http.post("/v1/models/mlp-onnx/predict", json={"inputs": rows}).status_code == 200
