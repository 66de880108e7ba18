"""Document 002 (Inferneo Python client): every example, run against the shared mesh with only its
import line changed (``from meshserve.compat.inferneo import ...``).

The examples name ``meta-llama/Llama-2-7b-chat-hf``, whose weights are not here: each asserts the
documented ``InferneoAPIError`` (404 MODEL_NOT_FOUND). The signature examples (``InferneoClient(...)``,
``client.completions.create(model: str, ...) -> CompletionResponse``) are read as signatures and
called with every documented parameter against the bundled model (SmolLM2), whose answers must
have the shape of the document's response classes (its last four examples)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

import meshserve
from meshserve.compat.inferneo import (
    AsyncInferneoClient,
    InferneoAPIError,
    InferneoClient,
    InferneoError,
)
from tests.procs import Mesh
from tests.sdk_examples.harness import (
    EXAMPLES,
    REQUIRED,
    documented_classes,
    documented_signature,
    mismatches,
    run,
    run_ok,
)

pytestmark = pytest.mark.integration

LLAMA = "meta-llama/Llama-2-7b-chat-hf"
NOT_AVAILABLE = f"language model '{LLAMA}' is not available"
#: 002's response objects (its "Response Objects" examples), field -> annotation.
CLASSES = documented_classes("d002_21", "d002_22", "d002_23", "d002_24")
FRANCE = [{"role": "user", "content": "Which city is the capital of France?"}]


@pytest.fixture
def ns(at_mesh: Mesh) -> dict[str, Any]:
    """A namespace after 002's quick start (``InferneoClient`` imported, ``client`` made)."""
    namespace: dict[str, Any] = {}
    run("d002_01", namespace)
    return namespace


def assert_llama_not_found(error: BaseException | None, message: str = NOT_AVAILABLE) -> None:
    """The documented error for a model whose weights are not here."""
    assert isinstance(error, InferneoAPIError), error
    assert isinstance(error, InferneoError) and isinstance(error, meshserve.NotFoundError)
    assert error.status_code == 404 and error.code == "MODEL_NOT_FOUND"
    assert error.message == message


def test_quick_start(ns: dict[str, Any], at_mesh: Mesh) -> None:
    imports, create, request = run("d002_01", ns)
    assert imports.error is None and create.error is None
    client = ns["client"]
    assert isinstance(client, InferneoClient)
    assert client.base_url == at_mesh.base_url  # http://localhost:8000, redirected by MESHSERVE_BASE_URL
    assert_llama_not_found(request.error)
    assert "smollm2-135m-instruct" in request.error.details["available_models"]  # type: ignore[union-attr]


def test_client_signature_and_its_defaults(ns: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    documented = documented_signature("d002_02")
    assert documented.callee == "InferneoClient"
    assert list(documented.parameters) == ["base_url", "api_key", "timeout", "max_retries", "headers"]
    # Every parameter, positionally in the documented order, with the documented defaults…
    explicit = InferneoClient(*documented.parameters.values())
    # …is what InferneoClient() gives.
    for client in (explicit, InferneoClient()):
        assert client.transport.timeout == documented.parameters["timeout"] == 30.0
        assert client.transport.max_retries == documented.parameters["max_retries"] == 3
        assert client.transport.api_key is None and "Authorization" not in client.transport.headers
        assert client.health()["status"] == "healthy"
    monkeypatch.delenv("MESHSERVE_BASE_URL")
    assert InferneoClient().base_url == documented.parameters["base_url"] == "http://localhost:8000"


def test_client_configuration(ns: dict[str, Any], at_mesh: Mesh) -> None:
    run_ok("d002_03", ns)
    client = ns["client"]
    assert client.base_url == at_mesh.base_url  # https://api.inferneo.ai, redirected
    assert client.transport.api_key == "your-api-key"
    assert client.transport.timeout == 60.0 and client.transport.max_retries == 5
    assert client.transport.client.headers["Authorization"] == "Bearer your-api-key"


@pytest.mark.parametrize("name", ["d002_05", "d002_06", "d002_08", "d002_09"])
def test_completions_and_chat_with_llama_2_are_the_documented_404(ns: dict[str, Any], name: str) -> None:
    # Streams too: the error is settled before the first chunk, so nothing is printed.
    (section,) = run(name, ns, split=False)
    assert_llama_not_found(section.error)
    assert section.stdout == ""


def documented_call(name: str, **values: Any) -> dict[str, Any]:
    """Keyword arguments for a signature example: exactly its documented parameters."""
    documented = documented_signature(name)
    named = {p for p in documented.parameters if not p.startswith("**")}
    assert set(values) == named, f"{name} documents {sorted(named)}"
    assert documented.parameters["model"] is REQUIRED
    return values


@pytest.mark.slow
def test_text_completion_signature_on_the_bundled_model(ns: dict[str, Any], llm: Mesh) -> None:
    assert documented_signature("d002_04").returns == "CompletionResponse"
    create = ns["client"].completions.create
    common = {"model": "default", "prompt": "The capital of France is", "max_tokens": 6}
    sampling = {"temperature": 0.0, "top_p": 0.9, "top_k": 40, "frequency_penalty": 0.0}
    extra = {"presence_penalty": 0.0, "stop": ".", "stream": False}
    response = create(**documented_call("d002_04", **common, **sampling, **extra))
    assert mismatches(response, "CompletionResponse", CLASSES) == []
    assert response.object == "text_completion" and response.model == "smollm2-135m-instruct"
    assert "Paris" in response.choices[0].text
    assert response.usage.completion_tokens <= 6
    # stream=True: chunks whose choices carry text, as 002's streaming example reads them
    chunks = list(create(**{**common, **sampling, **extra, "stream": True}))
    assert len(chunks) >= 2 and all(isinstance(c.choices[0].text, str) for c in chunks)
    assert "Paris" in "".join(c.choices[0].text for c in chunks)
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")


@pytest.mark.slow
def test_chat_completion_signature_on_the_bundled_model(ns: dict[str, Any], llm: Mesh) -> None:
    assert documented_signature("d002_07").returns == "ChatCompletionResponse"
    create = ns["client"].chat.completions.create
    common = {"model": "default", "messages": FRANCE, "max_tokens": 16, "temperature": 0.0}
    extra = {"top_p": 1.0, "top_k": 50, "frequency_penalty": 0.0, "presence_penalty": 0.0, "stop": None}
    response = create(**documented_call("d002_07", **common, **extra, stream=False))
    assert mismatches(response, "ChatCompletionResponse", CLASSES) == []
    assert response.object == "chat.completion" and response.choices[0].message.role == "assistant"
    assert "Paris" in response.choices[0].message.content
    # stream=True: deltas, read as 002's streaming chat example reads them
    text = "".join(c.choices[0].delta.content or "" for c in create(**common, stream=True))
    assert "Paris" in text


def test_list_models(ns: dict[str, Any], at_mesh: Mesh) -> None:
    out = run_ok("d002_11", ns)
    listed = httpx.get(f"{at_mesh.base_url}/v1/models", timeout=30).json()
    formats = {m["name"]: m["format"] for m in listed["models"]}
    expected = "".join(
        f"Model: {m['id']}\nParameters: {m.get('parameters')}\nFormat: {formats[m['id']]}\n"
        for m in listed["data"]
    )
    assert out == expected
    assert "Model: smollm2-135m-instruct\n" in out and "Format: gguf\n" in out
    assert "Model: example\n" in out and "Format: onnx\n" in out


def test_models_signatures_return_the_documented_model(ns: dict[str, Any]) -> None:
    assert documented_signature("d002_10").returns == "List[Model]"
    assert documented_signature("d002_12").returns == "Model"
    assert list(documented_signature("d002_12").parameters) == ["model_id"]
    models = ns["client"].models.list()
    assert isinstance(models, list) and {"example", "smollm2-135m-instruct"} <= {m.id for m in models}
    model = ns["client"].models.get(model_id="smollm2-135m-instruct")
    for found in (*models, model):
        # every documented field; an ONNX graph has no parameter count (null), a language model has one
        counted = found if found.format == "gguf" else {**found, "parameters": 0}
        assert mismatches(counted, "Model", CLASSES) == [], found
    assert model.id == "smollm2-135m-instruct" and model.format == "gguf"


def test_models_report_their_parameter_count(ns: dict[str, Any]) -> None:
    # Summed from the GGUF tensor table of the bundled file, listed and retrieved alike.
    model = ns["client"].models.get("smollm2-135m-instruct")
    assert mismatches(model, "Model", CLASSES) == []
    assert model.parameters == 134_515_008
    listed = {m.id: m for m in ns["client"].models.list()}
    assert listed["smollm2-135m-instruct"].parameters == 134_515_008
    assert listed["example"].parameters is None  # an ONNX graph: no count rather than a guess


def test_get_model_that_is_not_here(ns: dict[str, Any]) -> None:
    (section,) = run("d002_13", ns, split=False)
    assert_llama_not_found(section.error, f"model '{LLAMA}' not found")


def test_server_info(ns: dict[str, Any], at_mesh: Mesh) -> None:
    assert documented_signature("d002_14").returns == "ServerInfo"
    out = run_ok("d002_15", ns)
    body = httpx.get(f"{at_mesh.base_url}/info", timeout=30).json()
    assert out.startswith(f"Server version: {meshserve.__version__}\nModels loaded: [")
    assert body["version"] == meshserve.__version__
    info = ns["info"]
    problems = mismatches(info, "ServerInfo", CLASSES)
    if body["device"] == "cpu":  # no GPU: gpu_memory is null, as /info documents it
        assert out.endswith("GPU memory: None\n")
        assert problems == ["value.gpu_memory: None is not a dict"]
    else:
        assert problems == []


def test_exception_types(ns: dict[str, Any]) -> None:
    out = run_ok("d002_16", ns)
    assert out == "API Error: language model 'invalid-model' is not available\nStatus Code: 404\n"


def test_retry_logic_with_tenacity(ns: dict[str, Any]) -> None:
    from tenacity import RetryError

    run_ok("d002_17", ns)
    function = ns["make_request_with_retry"]
    waits: list[float] = []
    function.retry.sleep = waits.append  # the documented waits, recorded instead of slept
    with pytest.raises(RetryError) as raised:
        function(ns["client"], [{"role": "user", "content": "Hello"}])
    assert raised.value.last_attempt.attempt_number == 3  # stop_after_attempt(3): three real requests
    assert_llama_not_found(raised.value.last_attempt.exception())
    assert waits == [4.0, 4.0]  # wait_exponential(multiplier=1, min=4, max=10)


def test_async_batch_processing(ns: dict[str, Any], at_mesh: Mesh) -> None:
    definition, usage = run("d002_18", ns)
    assert definition.error is None
    assert isinstance(ns["async_client"], AsyncInferneoClient)
    assert ns["async_client"].base_url == at_mesh.base_url
    assert_llama_not_found(usage.error)  # asyncio.gather raises the first request's error
    assert "responses" not in ns


def test_custom_headers_reach_the_gateway(ns: dict[str, Any]) -> None:
    run_ok("d002_19", ns)
    sent: list[httpx.Headers] = []
    client = ns["client"]
    client.transport.client.event_hooks["request"].append(lambda request: sent.append(request.headers))
    assert client.health()["status"] == "healthy"
    (headers,) = sent
    assert headers["User-Agent"] == "MyApp/1.0" and headers["X-Custom-Header"] == "custom-value"


def test_request_logging(at_mesh: Mesh) -> None:
    # In its own process: pytest's log capture would make logging.basicConfig a no-op here.
    path = EXAMPLES / "d002_20.py"
    script = (
        "from meshserve.compat.inferneo import InferneoClient\n"  # the document's quick start import
        f"exec(compile(open({str(path)!r}).read(), 'd002_20.py', 'exec'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "MESHSERVE_BASE_URL": at_mesh.base_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "DEBUG:meshserve:POST /v1/chat/completions -> 404" in done.stderr
    assert done.stderr.rstrip().endswith(
        f"meshserve.errors.NotFoundError: 404 MODEL_NOT_FOUND: {NOT_AVAILABLE}"
    )
