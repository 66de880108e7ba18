"""Document 004 (LLaMA GPU): its three Python examples against the shared mesh, the client's with
only its import line changed (``from meshserve.compat.llama_gpu import LlamaGPUClient``).

§8.4's two snippets use ``requests`` on ``http://localhost:5000`` as written; ``requests_at_mesh``
sends that address to the test mesh. §10.1's client example asks for ``llama2-7b`` and
``llama2-13b`` (not here: the documented MODEL_NOT_FOUND / ModelLoadError) and runs batch and
streaming inference on the default model (SmolLM2) with the token counts it names."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import meshserve
from meshserve.compat.llama_gpu import LlamaGPUClient
from services.common.bundled import SMOLLM2_GGUF
from tests.procs import Mesh, gateway_for
from tests.sdk_examples.harness import Section, run, run_ok

pytestmark = pytest.mark.integration

DOCUMENTED_HOST = "http://localhost:5000"


@pytest.fixture
def requests_at_mesh(at_mesh: Mesh, monkeypatch: pytest.MonkeyPatch) -> Mesh:
    """``requests`` calls to 004's ``http://localhost:5000`` go to the test mesh (real sockets)."""
    import requests

    original = requests.Session.request

    def request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(DOCUMENTED_HOST):
            url = at_mesh.base_url + url[len(DOCUMENTED_HOST) :]
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", request)
    return at_mesh


def fresh_user_headers(mesh: Mesh) -> dict[str, str]:
    """The Authorization header of a new free-plan user (its own rate-limit budget)."""
    name = f"rl-{uuid.uuid4().hex[:8]}"
    password = "examples-pass-123"
    body = {"username": name, "email": f"{name}@example.com", "password": password}
    assert httpx.post(f"{mesh.base_url}/auth/register", json=body, timeout=30).status_code == 201
    login = httpx.post(
        f"{mesh.base_url}/auth/login", json={"username": name, "password": password}, timeout=30
    )
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def test_validation_error_names_the_provided_length(requests_at_mesh: Mesh) -> None:
    out = run_ok("d004_01", {})
    assert out == "Input too long: 10000\n"
    # The whole §8.1 details: the limit, what was sent, and which field.
    body = httpx.post(
        f"{requests_at_mesh.base_url}/api/v1/infer", json={"text": "x" * 5200}, timeout=30
    ).json()
    assert body["success"] is False and body["error"]["code"] == "INVALID_INPUT"
    details = body["error"]["details"]
    assert details["field"] == "text"
    assert (details["max_length"], details["provided_length"]) == (4096, 5200)  # numbers, as in §8.1


def test_rate_limited_requests_wait_as_told_then_give_up(
    requests_at_mesh: Mesh, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The shared mesh's gateway runs without rate limits: 004's host goes to a gateway of its own
    # in front of the same services, with the default limits and fresh counters.
    with gateway_for(requests_at_mesh, tmp_path) as url:
        monkeypatch.setitem(requests_at_mesh.ports, "gateway", int(url.rsplit(":", 1)[1]))
        ns: dict[str, Any] = {}
        run_ok("d004_02", ns)
        waits: list[float] = []
        ns["time"] = type("Clock", (), {"sleep": staticmethod(waits.append)})  # record, don't sleep
        retry = ns["make_request_with_retry"]
        documented = f"{DOCUMENTED_HOST}/api/v1/infer"

        # Not limited: the first answer comes back as it is (here 004's validation error).
        headers = fresh_user_headers(requests_at_mesh)
        answer = retry(documented, {}, headers)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "INVALID_INPUT"
        assert answer.headers["X-RateLimit-Limit"] == "1000"  # 004 §9.1, signed in
        assert answer.headers["X-RateLimit-Remaining"] == "999" and waits == []

        # Over §9.1's budget: three 429s, each waited out for its Retry-After, then the error.
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            while client.post("/api/v1/infer", json={}).status_code != 429:
                pass
        with pytest.raises(Exception, match=r"^Max retries exceeded$"):
            retry(documented, {}, headers)
    assert len(waits) == 3 and all(0 < w <= 3600 for w in waits)
    assert max(waits) - min(waits) <= 2  # the same window's end, give or take the clock


@pytest.fixture
def client_sections(at_mesh: Mesh, llm: Mesh) -> Iterator[tuple[dict[str, Any], list[Section]]]:
    """§10.1's example run section by section: (namespace, sections).

    Its client keeps the SDK's default timeout, 30 s, which 250 tokens of batch inference on a busy
    2-core CPU can outlast; the SDK's documented global default is raised for it (000's set_config).
    """
    meshserve.set_config({"default_timeout": 600.0})
    try:
        namespace: dict[str, Any] = {}
        yield namespace, run("d004_03", namespace)
    finally:
        meshserve.config.reset_config()


@pytest.mark.slow
@pytest.mark.timeout(600)  # 400 tokens of batch and stream on a busy 2-core CPU can pass 300 s
def test_llama_gpu_client_example(
    client_sections: tuple[dict[str, Any], list[Section]], at_mesh: Mesh
) -> None:
    ns, (imports, setup, single, batch, stream, management, monitoring) = client_sections
    assert imports.error is None and setup.error is None
    client = ns["client"]
    assert isinstance(client, LlamaGPUClient) and client.base_url == at_mesh.base_url
    assert client.transport.api_key == "your_api_key_here"

    # Single inference: llama2-7b is not here, 004's MODEL_NOT_FOUND (404).
    assert isinstance(single.error, meshserve.NotFoundError) and single.error.status_code == 404
    assert single.error.code == "MODEL_NOT_FOUND" and single.stdout == ""
    assert single.error.message == "language model 'llama2-7b' is not available"

    # Batch inference on the default model: one result per input, in order, within its max_tokens.
    assert batch.error is None, batch.error
    results = ns["results"]
    assert [r.id for r in results] == ["0", "1"]
    assert results[0].tokens_generated <= 100 and results[1].tokens_generated <= 150
    # Sampled at temperature 1, the model may end at once (7% for "What is AI?" on llama.cpp): an
    # end-of-generation token is not counted, so no tokens means no text, and text means tokens.
    assert all(r.inference_time > 0 and (r.tokens_generated > 0) == (r.generated_text != "") for r in results)
    assert batch.stdout == "".join(f"Result {r.id}: {r.generated_text}\n" for r in results)

    # Streaming: the tokens printed one after another are the final text of the stream's last event.
    # Sampled at temperature 1, the answer may be one token (a clean-clone run once streamed "." alone
    # at position 0), so its length is not asserted, only that the stream completed within its limit.
    # Positions counting every token, 0, 1, 2, …, are checked at temperature 0, where the answer is
    # fixed (tests/textgen/test_streams.py, test_llama_gpu_stream_infer).
    assert stream.error is None, stream.error
    last = ns["token"]
    assert last.is_complete and 0 <= last.position < 300
    assert stream.stdout == last.final_text and (last.position == 0 or re.search(r"\w", stream.stdout))

    # Model management: every model listed; llama2-13b cannot be loaded (ModelLoadError, 404).
    assert "smollm2-135m-instruct: " in management.stdout and "example: " in management.stdout
    listed = {m.name: m.loaded for m in ns["models"]}
    for name, loaded in listed.items():
        assert f"{name}: {'Loaded' if loaded else 'Available'}\n" in management.stdout
    assert isinstance(management.error, meshserve.ModelLoadError)
    assert management.error.status_code == 404 and management.error.code == "MODEL_NOT_FOUND"
    assert "llama2-13b" in management.error.message
    # The section stopped there; its last line gives 004's 404 as well.
    with pytest.raises(meshserve.NotFoundError, match="llama2-7b"):
        client.unload_model("llama2-7b")

    # System monitoring: health and GPU usage (none on a CPU machine).
    assert monitoring.error is None
    status = ns["status"]
    assert monitoring.stdout == f"System health: {status.status}\nGPU usage: {status.gpu_usage}\n"
    assert status.status in ("healthy", "degraded") and isinstance(status.gpu_usage, list)


@pytest.mark.slow
def test_a_loaded_language_model_lists_as_loaded(at_mesh: Mesh, llm: Mesh) -> None:
    # The example prints "smollm2-135m-instruct: Loaded" once generation has placed it on a worker.
    client = LlamaGPUClient(base_url="http://localhost:5000", api_key="your_api_key_here")
    listed = {m.name: m for m in client.list_models()}["smollm2-135m-instruct"]
    assert listed.loaded is True and listed.memory_bytes > 0
    # 004's size is that of the weights file (the Q4_1 GGUF, ~94 MB), not "0B"
    assert SMOLLM2_GGUF.path is not None
    assert listed.size == f"{SMOLLM2_GGUF.path.stat().st_size / 2**20:.1f}MB"
