"""JSON bodies take integers, numbers and booleans only as those JSON types: pydantic's lax mode no
longer turns ``false`` into 0 or ``0`` into ``false`` (schemathesis' ``negative_data_rejection``).
The gateway in process: a body refused by validation never reaches a service, so no mesh is needed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from gateway.dialects.auterity.metering import BudgetBody
from gateway.dialects.llama_gpu.infer import BatchRequest
from gateway.dialects.openai.chat import ChatRequest
from gateway.dialects.pytorch_if.audio import _form_body


def _refused(body: dict[str, Any], envelope: str, field: str) -> None:
    """``body`` is ``envelope``'s invalid-input error about ``field``."""
    if envelope == "auterity":
        error = body["error"]
        assert error["code"] == "INVALID_INPUT" and "suggestion" in error and body["request_id"]
        assert error["details"]["field"] == field and error["message"].startswith(f"{field}:")
    elif envelope == "llama-gpu":
        error = body["error"]
        assert body["success"] is False and body["timestamp"] and error["code"] == "INVALID_INPUT"
        assert error["details"]["field"] == field and error["message"].startswith(f"{field}:")
    elif envelope == "pytorch-if":
        assert body["success"] is False and body["code"] == "INVALID_INPUT" and body["request_id"]
        assert body["error"].startswith(f"{field}:") and f"field={field}" in body["detail"]
    else:
        assert envelope == "openai"
        error = body["error"]
        assert error["type"] == "invalid_request_error" and error["code"] == "invalid_input"
        assert error["param"] == field


#: What schemathesis found, one operation each, plus the OpenAI surface.
CASES = [
    (
        "POST",
        "/api/ai/advanced/inference/smart",
        {"prompt": "hi", "parameters": {"seed": False}},
        "auterity",
        "parameters.seed",
    ),
    ("POST", "/api/ai/advanced/scaling/autoscale", {"min_instances": False}, "auterity", "min_instances"),
    (
        "POST",
        "/api/ai/inference/batch",
        {"requests": [{"prompt": "hi", "parameters": {"seed": False}}]},
        "auterity",
        "requests.0.parameters.seed",
    ),
    ("POST", "/api/v1/batch_infer", {"inputs": [{"text": "hi"}], "top_p": False}, "llama-gpu", "top_p"),
    ("POST", "/autoscaler/scale", {"target_instances": False}, "pytorch-if", "target_instances"),
    ("POST", "/server/optimize", {"apply": 0}, "pytorch-if", "apply"),
    ("PUT", "/api/analytics/budget", {"limit_usd": False}, "auterity", "limit_usd"),
    (
        "POST",
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "hi"}], "max_tokens": "3"},
        "openai",
        "max_tokens",
    ),
    (
        "POST",
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": "hi"}], "stream": 1},
        "openai",
        "stream",
    ),
    ("POST", "/api/v1/infer", {"text": "hi", "max_tokens": 16.5}, "llama-gpu", "max_tokens"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "envelope", "field"), CASES, ids=[f"{c[1]}:{c[4]}" for c in CASES]
)
async def test_a_value_of_the_wrong_json_type_is_a_bad_request(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any], envelope: str, field: str
) -> None:
    reply = await client.request(method, path, json=body)
    assert reply.status_code == 400, reply.text
    _refused(reply.json(), envelope, field)


def test_a_number_field_still_takes_a_json_integer() -> None:
    assert BudgetBody.model_validate_json('{"limit_usd": 5}').limit_usd == 5.0
    batch = BatchRequest.model_validate_json('{"inputs": [{"text": "x", "temperature": 0}], "top_p": 1}')
    assert type(batch.top_p) is float and type(batch.inputs[0].temperature) is float
    chat = ChatRequest.model_validate_json('{"messages": [], "temperature": 0, "logit_bias": {"7": -100}}')
    assert chat.temperature == 0.0 and chat.logit_bias == {"7": -100.0}


@pytest.mark.parametrize("raw", ['{"limit_usd": "5"}', '{"limit_usd": true}', '{"alert_thresholds": [true]}'])
def test_strings_and_booleans_are_not_numbers(raw: str) -> None:
    with pytest.raises(ValidationError):
        BudgetBody.model_validate_json(raw)


def test_transcribe_form_fields_are_still_read_from_text() -> None:
    """``/transcribe``'s multipart form fills the same model from strings (form fields stay lax)."""
    body = _form_body({"temperature": "0.2", "word_timestamps": "true", "language": "en"})
    assert body.temperature == 0.2 and body.word_timestamps is True and body.language == "en"
