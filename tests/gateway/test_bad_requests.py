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
