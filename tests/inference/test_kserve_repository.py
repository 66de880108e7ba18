"""KServe v2's model repository extension through ``tritonclient.http``, as a Triton user drives it:
the index with each model's state, unload (the model is no longer ready and refuses inference),
load (ready and serving again), a configuration override refused, unknown models 404."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
import tritonclient.http as triton_http
from tritonclient.utils import InferenceServerException

from tests.inference.models import mlp, onnx_bytes, onnx_reference
from tests.procs import Mesh

pytestmark = pytest.mark.slow

ROW = np.asarray([[1.0, 2.0, 3.0, 4.0]], dtype=np.float32)


def infer(client: triton_http.InferenceServerClient, name: str) -> np.ndarray:
    item = triton_http.InferInput("x", list(ROW.shape), "FP32")
    item.set_data_from_numpy(ROW)
    return np.asarray(client.infer(name, [item]).as_numpy("y"))


def state_of(client: triton_http.InferenceServerClient, name: str) -> dict[str, str]:
    [entry] = [m for m in client.get_model_repository_index() if m["name"] == name]
    return dict(entry)


def test_unload_and_load_through_tritonclient(http: httpx.Client, triton_mesh: Mesh) -> None:
    model = onnx_bytes(mlp(4))
    reply = http.post(
        "/v1/models", data={"name": "repo-mlp", "format": "onnx"}, files={"file": ("m.onnx", model)}
    )
    assert reply.status_code == 201, reply.text
    client = triton_http.InferenceServerClient(triton_mesh.base_url.removeprefix("http://"))
    assert "model_repository" in client.get_server_metadata()["extensions"]
    assert state_of(client, "repo-mlp") == {"name": "repo-mlp", "version": "1", "state": "READY"}
    np.testing.assert_allclose(infer(client, "repo-mlp"), onnx_reference(model, ROW), rtol=1e-5)

    client.unload_model("repo-mlp")
    assert not client.is_model_ready("repo-mlp")
    assert state_of(client, "repo-mlp")["state"] == "UNAVAILABLE"
    assert state_of(client, "repo-mlp")["reason"] == "unloaded"
    ready_only = httpx.post(f"{triton_mesh.base_url}/v2/repository/index", json={"ready": True}, timeout=30)
    assert "repo-mlp" not in {m["name"] for m in ready_only.json()}
    with pytest.raises(InferenceServerException, match="not loaded"):
        infer(client, "repo-mlp")

    client.load_model("repo-mlp")
    assert client.is_model_ready("repo-mlp") and state_of(client, "repo-mlp")["state"] == "READY"
    np.testing.assert_allclose(infer(client, "repo-mlp"), onnx_reference(model, ROW), rtol=1e-5)


def test_a_configuration_override_and_unknown_models_are_refused(triton_mesh: Mesh) -> None:
    client = triton_http.InferenceServerClient(triton_mesh.base_url.removeprefix("http://"))
    with pytest.raises(InferenceServerException, match="cannot override the model's configuration"):
        client.load_model("example", config='{"max_batch_size": 4}')
    assert client.is_model_ready("example")
    for control in (client.load_model, client.unload_model):
        with pytest.raises(InferenceServerException, match="not found") as refused:
            control("no-such-model")
        assert refused.value.status() == "404"
    bad = httpx.post(f"{triton_mesh.base_url}/v2/repository/index", json={"ready": "yes"}, timeout=30)
    assert bad.status_code == 400 and set(bad.json()) == {"error"}
