"""Issue 3, "It must show" 2: each bad upload gets a 400 with a precise reason and leaves no row,
no blob and no temporary file behind."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import httpx
import pytest

from tests.inference.conftest import UPLOAD_LIMIT
from tests.procs import Mesh

pytestmark = pytest.mark.slow


class Exploit:
    """Unpickling this would run a shell command."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch /tmp/meshserve-pwned",))


def _state(http: httpx.Client, mesh: Mesh) -> tuple[list[str], int, list[Path]]:
    names = sorted(m["id"] for m in http.get("/v1/models").json()["models"])
    blobs = http.get("/models/cache/info").json()["result"]["blob_count"]
    temp = sorted((mesh.data_dir / "blobs" / "tmp").iterdir())
    return names, blobs, temp


CASES = {
    "empty": ("bad.onnx", b"", "onnx", "empty"),
    "truncated": ("bad.onnx", None, "onnx", "not a valid ONNX"),
    "random": ("bad.onnx", os.urandom(4096), "onnx", "ONNX"),
    "pickle": ("bad.pt", pickle.dumps(Exploit()), "pytorch", "pickle"),
    "mismatch": ("model.onnx", None, "onnx", "does not match"),
    "oversize": ("big.onnx", b"\0" * (UPLOAD_LIMIT + 1), "onnx", "upload limit"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_upload_is_refused_and_leaves_nothing(
    http: httpx.Client, triton_mesh: Mesh, onnx_model: bytes, torchscript_model: bytes, case: str
) -> None:
    filename, data, fmt, reason = CASES[case]
    if case == "truncated":
        data = onnx_model[: len(onnx_model) // 2]
    if case == "mismatch":
        data = torchscript_model  # a TorchScript archive declared as ONNX
    before = _state(http, triton_mesh)
    reply = http.post(
        "/v1/models", data={"name": f"bad-{case}", "format": fmt}, files={"file": (filename, data)}
    )
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert reason.lower() in error["message"].lower(), error
    assert error["reason"] in ("MODEL_VALIDATION_FAILED", "PAYLOAD_TOO_LARGE")
    assert _state(http, triton_mesh) == before
    assert not Path("/tmp/meshserve-pwned").exists()


@pytest.mark.parametrize("name", ["../escape", "a/b", ".."])
def test_name_with_path_is_refused(
    http: httpx.Client, triton_mesh: Mesh, onnx_model: bytes, name: str
) -> None:
    before = _state(http, triton_mesh)
    reply = http.post(
        "/v1/models", data={"name": name, "format": "onnx"}, files={"file": ("m.onnx", onnx_model)}
    )
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["reason"] == "INVALID_INPUT" and "name" in reply.json()["error"]["message"]
    assert _state(http, triton_mesh) == before


def test_an_upload_keeps_its_version_label_and_refuses_a_malformed_one(
    http: httpx.Client, triton_mesh: Mesh, onnx_model: bytes
) -> None:
    def upload(version: str) -> httpx.Response:
        return http.post(
            "/v1/models",
            data={"name": "labelled", "format": "onnx", "version": version},
            files={"file": ("m.onnx", onnx_model)},
        )

    before = _state(http, triton_mesh)
    refused = upload("../../x")
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "version", refused.text
    assert _state(http, triton_mesh) == before
    stored = upload("2024-06")
    assert stored.status_code == 201 and stored.json()["version"] == "2024-06", stored.text
    assert http.get("/v1/models/labelled").json()["version"] == "2024-06"
