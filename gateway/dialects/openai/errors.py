"""OpenAI error envelope: ``{"error": {"message", "type", "param", "code"}}``.

``/v1/models…`` is shared with document 000 (ACE3), so the envelope also carries the canonical
``reason`` and ``details`` that 000's clients read.
"""

from __future__ import annotations

from typing import Any

from gateway.dialects.envelope import FACTS, STRING, ErrorSurface, error_object
from services.common.errors import MeshError

_TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    429: "rate_limit_error",
}
#: OpenAI's own type for a used-up quota or spending limit.
_TYPE_BY_CODE = {"QUOTA_EXCEEDED": "insufficient_quota", "BUDGET_EXCEEDED": "insufficient_quota"}


def render(error: MeshError, request_id: str) -> dict[str, Any]:
    """The OpenAI-style error body."""
    return {
        "error": {
            "message": error.message,
            "type": _TYPE_BY_CODE.get(error.code) or _TYPE_BY_STATUS.get(error.http_status, "server_error"),
            "param": error.details.get("field"),
            "code": error.code.lower(),
            "reason": error.code,
            "details": error.details,
        }
    }


SCHEMA = error_object(
    ["error"],
    error=error_object(
        ["message", "type", "param", "code"],
        message=STRING,
        type=STRING,
        param={"type": ["string", "null"]},
        code=STRING,
        reason=STRING,
        details=FACTS,
    ),
)
#: vLLM's tokenizer routes beside the OpenAI API answer in its envelope too.
SURFACE = ErrorSurface("openai", ("/v1/", "/tokenize", "/detokenize", "/tokenizer_info"), render, SCHEMA)
