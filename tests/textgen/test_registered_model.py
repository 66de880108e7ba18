"""Language models registered through the registry: a GGUF upload is served by name like the bundled
model; a file that is not a sound GGUF model is refused with its reason and leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from services.common.bundled import SMOLLM2_GGUF
from tests.procs import Mesh
from tests.textgen.conftest import QUESTION

pytestmark = pytest.mark.integration


def names(mesh: Mesh) -> list[str]:
    """Every model the registry lists."""
    return sorted(m["name"] for m in httpx.get(f"{mesh.base_url}/v1/models", timeout=30).json()["models"])


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("random", "does not start with the GGUF magic"),
        ("garbled", "cannot be read"),
        ("truncated", "cannot be read"),
    ],
)
def test_bad_gguf_is_refused_with_its_reason(mesh: Mesh, case: str, reason: str) -> None:
    assert SMOLLM2_GGUF.path is not None
    if case == "random":
        data = os.urandom(64 * 1024)
    elif case == "garbled":
        data = b"GGUF" + os.urandom(64 * 1024)  # the magic, then noise
    else:
        with Path(SMOLLM2_GGUF.path).open("rb") as handle:
            data = handle.read(2_000_000)  # a real header whose tensors run past the end
    before = names(mesh)
    reply = httpx.post(
        f"{mesh.base_url}/v1/models",
        data={"name": f"bad-gguf-{case}", "format": "gguf"},
        files={"file": ("model.gguf", data)},
        timeout=120,
    )
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["reason"] == "MODEL_VALIDATION_FAILED"
    assert reason in error["message"], error
    assert names(mesh) == before


def test_a_tensor_model_is_no_language_model(mesh: Mesh) -> None:
    reply = httpx.post(
        f"{mesh.base_url}/v1/chat/completions",
        json={"model": "example", "messages": [{"role": "user", "content": "hi"}]},
        timeout=60,
    )
    assert reply.status_code == 404, reply.text
    assert "not a language model" in reply.json()["error"]["message"]


@pytest.mark.slow
def test_registered_gguf_generates_by_name(llm_mesh: Mesh) -> None:
    """A copy of the bundled GGUF, uploaded under another name, answers greedily exactly as the
    bundled model does (same weights, same engine), and reports its own name."""
    assert SMOLLM2_GGUF.path is not None
    base = llm_mesh.base_url
    with Path(SMOLLM2_GGUF.path).open("rb") as handle:
        reply = httpx.post(
            f"{base}/v1/models",
            data={"name": "smollm2-copy", "format": "gguf"},
            files={"file": ("SmolLM2-copy.gguf", handle)},
            timeout=300,
        )
    assert reply.status_code == 201, reply.text
    stored = httpx.get(f"{base}/api/v1/models/smollm2-copy", timeout=30).json()
    assert stored["success"], stored

    def ask(model: str) -> dict:
        answer = httpx.post(
            f"{base}/v1/chat/completions",
            json={
                "model": model,
                "messages": [{"role": "user", "content": QUESTION}],
                "temperature": 0,
                "max_tokens": 12,
            },
            timeout=300,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    copy, bundled = ask("smollm2-copy"), ask("default")
    assert copy["model"] == "smollm2-copy"
    assert "Paris" in copy["choices"][0]["message"]["content"]
    assert copy["choices"][0]["message"]["content"] == bundled["choices"][0]["message"]["content"]
    assert copy["usage"] == bundled["usage"]
