"""Malformed JSON and wrong content types get a clear 400 in the envelope of the surface they hit."""

from __future__ import annotations

import httpx
import pytest

from tests.procs import Mesh

pytestmark = pytest.mark.integration

#: One JSON endpoint per surface, with the envelope it must answer in.
SURFACES = [
    ("/predict", "pytorch-if"),
    ("/api/v1/infer", "llama-gpu"),
    ("/api/ai/inference", "auterity"),
    ("/v1/chat/completions", "openai"),
    ("/v1/models/example/predict", "openai"),
    ("/v2/models/example/infer", "kserve"),
]


def assert_envelope(body: dict, envelope: str, needle: str) -> None:
    """The body is the surface's documented error envelope and mentions ``needle``."""
    if envelope == "pytorch-if":
        assert body["success"] is False
        message = body["error"] + " " + body["detail"]
    elif envelope == "llama-gpu":
        assert body["success"] is False and body["error"]["code"] == "INVALID_INPUT" and body["timestamp"]
        message = body["error"]["message"]
    elif envelope == "auterity":
        assert body["error"]["code"] == "INVALID_INPUT" and "suggestion" in body["error"]
        message = body["error"]["message"]
    elif envelope == "openai":
        assert body["error"]["type"] == "invalid_request_error"
        message = body["error"]["message"]
    else:
        assert set(body) == {"error"} and isinstance(body["error"], str)
        message = body["error"]
    assert needle.lower() in message.lower(), message


@pytest.mark.parametrize(("path", "envelope"), SURFACES)
def test_malformed_json(mesh: Mesh, path: str, envelope: str) -> None:
    response = httpx.post(
        f"{mesh.base_url}{path}", content=b'{"inputs": [1, 2,', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.headers["x-request-id"]
    assert_envelope(response.json(), envelope, "JSON")


@pytest.mark.parametrize(("path", "envelope"), SURFACES)
def test_wrong_content_type(mesh: Mesh, path: str, envelope: str) -> None:
    response = httpx.post(
        f"{mesh.base_url}{path}", content=b"inputs=1,2,3", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400, response.text
    assert_envelope(response.json(), envelope, "Content-Type")


# Found by schemathesis over the gateway's OpenAPI (issue 17), kept as regression examples.


@pytest.mark.parametrize(("path", "envelope"), SURFACES)
def test_a_body_that_is_not_utf8_is_a_bad_request(mesh: Mesh, path: str, envelope: str) -> None:
    response = httpx.post(
        f"{mesh.base_url}{path}", content=b"K\xffqs\xc3\x1cm", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert_envelope(response.json(), envelope, "JSON" if envelope == "kserve" else "malformed request body")


@pytest.mark.parametrize("path", ["/transcribe", "/v1/audio/transcriptions", "/v1/models"])
def test_a_multipart_form_without_boundary_is_a_bad_request(mesh: Mesh, path: str) -> None:
    response = httpx.post(f"{mesh.base_url}{path}", headers={"Content-Type": "multipart/form-data"})
    assert response.status_code == 400, response.text
    assert "boundary" in response.text.lower()


def test_a_number_too_large_for_the_contract_is_a_bad_request(mesh: Mesh) -> None:
    response = httpx.post(
        f"{mesh.base_url}/autoscaler/scale",
        json={"model_name": "", "target_instances": 5697219161704279048192},
    )
    assert response.status_code == 400, response.text
    assert_envelope(response.json(), "pytorch-if", "out of range")
    response = httpx.post(
        f"{mesh.base_url}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 63279613116},
    )
    assert response.status_code == 400, response.text
    assert_envelope(response.json(), "openai", "out of range")


def test_scaling_a_model_that_does_not_exist_is_not_found(mesh: Mesh) -> None:
    response = httpx.post(
        f"{mesh.base_url}/autoscaler/scale", json={"model_name": "no-such-model", "replicas": 2}, timeout=30
    )
    assert response.status_code == 404, response.text
    body = response.json()
    assert body["success"] is False and body["code"] == "MODEL_NOT_FOUND" and "no-such-model" in body["error"]


def test_an_infinite_penalty_is_refused_naming_the_field(mesh: Mesh) -> None:
    response = httpx.post(
        f"{mesh.base_url}/api/ai/inference",
        content=b'{"prompt": "hi", "parameters": {"presence_penalty": 1e999}}',  # JSON readers take it as inf
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["details"]["field"] == "presence_penalty" and error["details"]["provided"] == "inf"


@pytest.mark.parametrize(
    ("path", "body", "envelope"),
    [
        ("/synthesize", {"inputs": "one\u0000two"}, "pytorch-if"),
        ("/v1/audio/speech", {"model": "tts-1", "voice": "alloy", "input": "one\u0000two"}, "openai"),
    ],
)
def test_text_to_speak_with_a_nul_character_is_a_bad_request(
    mesh: Mesh, path: str, body: dict, envelope: str
) -> None:
    response = httpx.post(f"{mesh.base_url}{path}", json=body, timeout=60)
    assert response.status_code == 400, response.text
    assert_envelope(response.json(), envelope, "NUL character")


BINARY_HEADER = (
    b'{"inputs": [{"name": "INPUT", "shape": [1, 2], "datatype": "FP32", '
    b'"parameters": {"binary_data_size": 8}}]}'
)


@pytest.mark.parametrize(
    ("body", "headers", "words"),
    [
        (  # int() read [1, 2.5] as [1, 2] and ran it
            b'{"inputs": [{"name": "INPUT", "shape": [1, 2.5], "datatype": "FP32", "data": [1, 2]}]}',
            {"Content-Type": "application/json"},
            "shape of whole numbers",
        ),
        (
            b'{"inputs": [{"name": "INPUT", "shape": [true, 2], "datatype": "FP32", "data": [1, 2]}]}',
            {"Content-Type": "application/json"},
            "shape of whole numbers",
        ),
        (b"{}", {"Inference-Header-Content-Length": "abc"}, "Inference-Header-Content-Length"),
        (b"{}", {"Inference-Header-Content-Length": "-1"}, "Inference-Header-Content-Length"),
        (b"{}", {"Inference-Header-Content-Length": "999999"}, "Inference-Header-Content-Length"),
        (  # Triton refuses bytes no input claims; they were ignored
            BINARY_HEADER + bytes(12),
            {"Inference-Header-Content-Length": str(len(BINARY_HEADER))},
            "4 bytes after its inputs",
        ),
    ],
)
def test_a_malformed_kserve_tensor_header_is_a_bad_request(
    mesh: Mesh, body: bytes, headers: dict[str, str], words: str
) -> None:
    reply = httpx.post(f"{mesh.base_url}/v2/models/example/infer", content=body, headers=headers, timeout=30)
    assert reply.status_code == 400, reply.text
    assert words in reply.json()["error"]
