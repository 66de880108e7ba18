"""``DELETE /v1/models/{id}``: every version unloaded from the workers and deleted, through the
official OpenAI client and the meshserve SDK; unknown and built-in models are refused untouched."""

from __future__ import annotations

import httpx
import openai
import pytest

from meshserve import Client
from tests.inference.models import mlp, onnx_bytes
from tests.procs import Mesh

pytestmark = pytest.mark.slow

ROW = {"inputs": [[1.0, 2.0, 3.0, 4.0]]}


def upload(http: httpx.Client, name: str) -> str:
    reply = http.post(
        "/v1/models", data={"name": name, "format": "onnx"}, files={"file": ("m.onnx", onnx_bytes(mlp(3)))}
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["version"])


def loaded_versions(http: httpx.Client, name: str) -> list[str]:
    models = http.get("/api/v1/models").json()["models"]
    return [m["version"] for m in models if m["name"] == name and m["loaded"]]


def test_delete_unloads_and_removes_every_version(http: httpx.Client, triton_mesh: Mesh) -> None:
    versions = [upload(http, "doomed"), upload(http, "doomed")]
    assert http.post("/v1/models/doomed/predict", json=ROW).status_code == 200  # loads the newest
    assert loaded_versions(http, "doomed") == [versions[-1]]

    client = openai.OpenAI(base_url=f"{triton_mesh.base_url}/v1", api_key="unused", max_retries=0)
    deleted = client.models.delete("doomed")
    assert deleted.id == "doomed" and deleted.deleted is True and deleted.object == "model"

    assert http.get("/v1/models/doomed").status_code == 404
    assert http.post("/v1/models/doomed/predict", json=ROW).status_code == 404
    assert "doomed" not in {m["name"] for m in http.get("/api/v1/models").json()["models"]}
    # The inference service's own view: no worker holds it any more.
    held = [m for m in http.get("/models/managed").json()["result"] if m["name"] == "doomed"]
    assert all(m["status"] != "loaded" and not m["workers"] for m in held), held
    again = http.delete("/v1/models/doomed")
    assert again.status_code == 404 and again.json()["error"]["reason"] == "MODEL_NOT_FOUND"


def test_the_sdk_deletes_and_reports_the_versions(http: httpx.Client, triton_mesh: Mesh) -> None:
    versions = [upload(http, "sdk-doomed"), upload(http, "sdk-doomed")]
    with Client(triton_mesh.base_url) as client:
        reply = client.delete_model("sdk-doomed")
    assert reply == {"id": "sdk-doomed", "object": "model", "deleted": True, "versions": versions[::-1]}


def test_a_built_in_model_is_refused_and_still_serves(http: httpx.Client) -> None:
    row = {"model_name": "example", "inputs": [[1.0, 2.0]]}
    assert http.post("/predict", json=row).status_code == 200  # loaded: a refused delete leaves it so
    refused = http.delete("/v1/models/example")
    assert refused.status_code == 400 and "built in" in refused.json()["error"]["message"]
    assert http.get("/v1/models/example").status_code == 200
    assert http.post("/predict", json=row).status_code == 200


def test_a_name_deleted_and_uploaded_again_serves_the_new_weights(
    http: httpx.Client, triton_mesh: Mesh
) -> None:
    import numpy as np

    from tests.inference.models import onnx_reference

    old, new = onnx_bytes(mlp(1)), onnx_bytes(mlp(2))
    row = np.asarray(ROW["inputs"], dtype=np.float32)
    for model in (old, new):
        reply = http.post(
            "/v1/models", data={"name": "reborn", "format": "onnx"}, files={"file": ("m.onnx", model)}
        )
        assert reply.status_code == 201 and reply.json()["version"] == "1", reply.text
        served = http.post("/v1/models/reborn/predict", json=ROW)  # loads it, then the delete unloads it
        assert served.status_code == 200, served.text
        np.testing.assert_allclose(served.json()["outputs"], onnx_reference(model, row), rtol=1e-5)
        if model is old:
            assert http.delete("/v1/models/reborn").status_code == 200
