"""Must-show 5: bad requests get a clear error in each surface's envelope."""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import pytest

from meshserve.v1 import inference_pb2 as pb
from tests.procs import Mesh

pytestmark = pytest.mark.slow

USER = [{"role": "user", "content": "hi"}]

#: (case, chat body, expected status, expected reason, field named in details)
CASES: list[tuple[str, dict[str, Any], int, str, str]] = [
    ("empty messages", {"messages": []}, 400, "INVALID_INPUT", "messages"),
    (
        "unknown role",
        {"messages": [{"role": "wizard", "content": "hi"}]},
        400,
        "INVALID_INPUT",
        "messages[0].role",
    ),
    ("temperature 5", {"messages": USER, "temperature": 5}, 400, "INVALID_INPUT", "temperature"),
    ("max_tokens 0", {"messages": USER, "max_tokens": 0}, 400, "INVALID_INPUT", "max_tokens"),
    ("max_tokens 1e9", {"messages": USER, "max_tokens": 10**9}, 400, "INVALID_INPUT", "max_tokens"),
    ("unknown model", {"model": "no-such-model", "messages": USER}, 404, "MODEL_NOT_FOUND", ""),
    (
        "json_schema format without its schema",
        {"messages": USER, "response_format": {"type": "json_schema"}},
        400,
        "INVALID_INPUT",
        "response_format.json_schema",
    ),
    (
        "tool message answering no call",
        {
            "messages": [
                *USER,
                {"role": "assistant", "content": "checking"},
                {"role": "tool", "content": "18 degrees"},
            ]
        },
        400,
        "INVALID_INPUT",
        "messages[2].tool_call_id",
    ),
    (
        "100k prompt",
        {"messages": [{"role": "user", "content": "word " * 20_000}]},
        400,
        "INVALID_INPUT",
        "prompt",
    ),
]


@pytest.mark.parametrize(("case", "body", "status", "reason", "field"), CASES, ids=[c[0] for c in CASES])
def test_openai_envelope(llm_mesh: Mesh, case: str, body: dict, status: int, reason: str, field: str) -> None:
    for stream in (False, True):
        reply = httpx.post(
            f"{llm_mesh.base_url}/v1/chat/completions", json={**body, "stream": stream}, timeout=60
        )
        assert reply.status_code == status, reply.text
        error = reply.json()["error"]
        assert error["code"] == reason.lower() and error["message"]
        assert error["type"] == ("invalid_request_error" if status < 500 else "server_error")
        if field:
            assert error["param"] == field


def test_a_nan_sampling_parameter_is_refused(llm_mesh: Mesh) -> None:
    """Python's JSON reads NaN; the engine sampled garbage with it before the range checks caught it."""
    body = b'{"max_tokens": 2, "temperature": NaN, "messages": [{"role": "user", "content": "hi"}]}'
    reply = httpx.post(
        f"{llm_mesh.base_url}/v1/chat/completions",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["param"] == "temperature"


def test_context_limit_details_on_004(llm_mesh: Mesh, inference_stub: Any) -> None:
    """004 §8.4: INVALID_INPUT with max_length and provided_length.

    004's text is capped at 4096 characters, but 3000 emoji are ~9000 tokens: past the context a
    sequence may hold (``MESHSERVE_INFERENCE_LLM_CONTEXT_TOKENS``, within the model's 8192), which
    is what is reported (in tokens)."""
    stats = inference_stub.GetGenerationStats(pb.GetGenerationStatsRequest(), timeout=5)
    context = stats.models[0].context_length
    assert 0 < context <= 8192
    reply = httpx.post(f"{llm_mesh.base_url}/api/v1/infer", json={"text": "\U0001f600" * 3000}, timeout=60)
    assert reply.status_code == 400
    body = reply.json()
    assert body["success"] is False and body["error"]["code"] == "INVALID_INPUT"
    details = body["error"]["details"]
    # Numbers as numbers, as §8.1 shows them.
    assert details["max_length"] == context
    assert isinstance(details["provided_length"], int) and details["provided_length"] > 8192
    assert details["field"] == "prompt"
    assert body["request_id"] and body["timestamp"]


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/v1/infer", {"text": "hi", "temperature": 5}, 400, "INVALID_INPUT"),
        ("/api/v1/stream_infer", {"text": "hi", "max_tokens": 0}, 400, "INVALID_INPUT"),
        ("/api/v1/infer", {"text": "hi", "model": "nope"}, 404, "MODEL_NOT_FOUND"),
        ("/api/v1/infer", {"text": ""}, 400, "INVALID_INPUT"),
        ("/api/v1/batch_infer", {"inputs": []}, 400, "INVALID_INPUT"),  # was a 200 with no results
        ("/api/v1/batch_infer", {"inputs": [{"text": "hi"}] * 101}, 400, "INVALID_INPUT"),
    ],
)
def test_llama_gpu_envelope(llm_mesh: Mesh, path: str, body: dict, status: int, code: str) -> None:
    reply = httpx.post(f"{llm_mesh.base_url}{path}", json=body, timeout=60)
    assert reply.status_code == status
    data = reply.json()
    assert data["success"] is False and data["error"]["code"] == code and data["error"]["message"]


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/ai/inference", {"prompt": "hi", "parameters": {"temperature": 5}}, 400, "INVALID_INPUT"),
        ("/api/ai/inference/stream", {"model_id": "gpt-5", "prompt": "hi"}, 404, "MODEL_NOT_FOUND"),
        ("/api/ai/inference/batch", {"requests": []}, 400, "INVALID_INPUT"),  # as batch/create
        ("/api/ai/inference/batch", {"requests": [{"prompt": "hi"}] * 101}, 400, "INVALID_INPUT"),
        (
            "/api/ai/inference",
            {"prompt": "hi", "parameters": {"max_tokens": 1_000_000_000}},
            400,
            "INVALID_INPUT",
        ),
    ],
)
def test_auterity_envelope(llm_mesh: Mesh, path: str, body: dict, status: int, code: str) -> None:
    reply = httpx.post(f"{llm_mesh.base_url}{path}", json=body, timeout=60)
    assert reply.status_code == status
    data = reply.json()
    assert data["error"]["code"] == code and data["error"]["message"]
    assert "suggestion" in data["error"] and data["request_id"] and data["timestamp"]
    if code == "MODEL_NOT_FOUND":
        assert "smollm2-135m-instruct" in data["error"]["details"]["available_models"]


def test_a_grpc_prompt_as_text_and_token_ids_at_once_is_refused(inference_stub: Any) -> None:
    """Plugins read the text: a request whose ids could say something else than its text is refused."""
    request = pb.GenerateRequest(prompt="Say hi.", prompt_token_ids=[1, 2, 3])
    with pytest.raises(grpc.RpcError) as caught:
        list(inference_stub.Generate(request, timeout=60))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not both" in str(caught.value.details())
