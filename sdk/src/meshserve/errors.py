"""Exceptions raised by the SDK.

Exception tree (documents' names in brackets are aliases of the same classes)::

    MeshserveError                 .message            [000 ace3 -, 002 InferneoError]
    ├── NetworkError               no answer: refused, reset, DNS        [000 NetworkError]
    │   └── TimeoutError           the request outlived its timeout      [002 InferneoTimeoutError]
    ├── UnsupportedError           a documented feature meshserve does not offer (TensorFlow, MPI)
    ├── TrainingError              a distributed training run failed (.rank: the rank at fault)
    └── APIError                   the gateway answered with an error    [000 APIError, 002 InferneoAPIError]
        │                          .status_code .code .details .suggestion .request_id .body
        ├── BadRequestError        400 / 409 / 422
        ├── AuthenticationError    401                                   [000 AuthenticationError]
        ├── PermissionDeniedError  403
        ├── NotFoundError          404
        ├── RateLimitError         429 (.retry_after)
        ├── ServerError            5xx
        └── ModelLoadError         a model could not be loaded (local file, upload, import)
                                   [000 ModelLoadError]; status_code is None when it failed locally

Every envelope the gateway speaks is parsed into these: OpenAI/000 ``{"error": {message, code,
reason, details}}``, 004 ``{"success": false, "error": {code, message, details}}``, 003
``{"error": {code, message, details, suggestion}}``, 001 ``{"success": false, "error", "detail",
"code"}`` and KServe ``{"error": "..."}``; errors sent inside an SSE stream raise the same types.
"""

from __future__ import annotations

from typing import Any


class MeshserveError(Exception):
    """Base of every SDK error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NetworkError(MeshserveError):
    """The gateway could not be reached."""


class TimeoutError(NetworkError):
    """The request timed out."""


class UnsupportedError(MeshserveError):
    """A documented feature that meshserve does not provide, or a part of it that needs a missing package."""


class TrainingError(MeshserveError):
    """A distributed training run failed; ``rank`` is the rank at fault (None when none was)."""

    def __init__(self, message: str, rank: int | None = None) -> None:
        super().__init__(message)
        self.rank = rank


class APIError(MeshserveError):
    """The gateway answered with an error status."""

    def __init__(
        self,
        message: str,
        status_code: int | None,
        code: str = "",
        body: Any = None,
        details: dict[str, Any] | None = None,
        suggestion: str = "",
        request_id: str = "",
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.body = body
        self.details = details or {}
        self.suggestion = suggestion
        self.request_id = request_id

    def __str__(self) -> str:
        head = " ".join(str(p) for p in (self.status_code, self.code) if p)
        return f"{head}: {self.message}" if head else self.message


class BadRequestError(APIError):
    """400/409/422: the request was refused as invalid."""


class AuthenticationError(APIError):
    """401: missing or invalid credentials."""


class PermissionDeniedError(APIError):
    """403: the credential's role is too low."""


class NotFoundError(APIError):
    """404: no such model or endpoint."""


class RateLimitError(APIError):
    """429: over the plan's limit."""

    def __init__(self, message: str, status_code: int | None, retry_after: float = 0, **kw: Any) -> None:
        super().__init__(message, status_code, **kw)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the mesh failed."""


class ModelLoadError(APIError):
    """A model could not be loaded: missing file, refused upload, failed import."""

    @classmethod
    def from_api(cls, error: APIError, prefix: str = "") -> ModelLoadError:
        """The same failure, as a ModelLoadError."""
        return cls(
            f"{prefix}{error.message}",
            error.status_code,
            code=error.code,
            body=error.body,
            details=error.details,
            suggestion=error.suggestion,
            request_id=error.request_id,
        )


def parse_error_body(body: Any) -> dict[str, Any]:
    """message, code, details, suggestion and request_id from any of the gateway's envelopes."""
    out: dict[str, Any] = {"message": "", "code": "", "details": {}, "suggestion": "", "request_id": ""}
    if not isinstance(body, dict):
        out["message"] = str(body) if body else "error"
        return out
    out["request_id"] = str(body.get("request_id") or "")
    error = body.get("error")
    if isinstance(error, dict):  # OpenAI / 000 (reason = canonical code), 004, 003
        out["message"] = str(error.get("message", ""))
        out["code"] = str(error.get("reason") or error.get("code") or "")
        out["details"] = error.get("details") or {}
        out["suggestion"] = str(error.get("suggestion") or "")
    elif isinstance(error, str):  # 001 or KServe
        detail = body.get("detail")
        out["message"] = f"{error}: {detail}" if detail and detail != error else error
        out["code"] = str(body.get("code", ""))
    else:
        out["message"] = str(body.get("detail") or body.get("message") or body)
    return out


def error_for(status: int, body: Any, retry_after: float = 0) -> APIError:
    """The exception for an error response."""
    fields = parse_error_body(body)
    message = fields.pop("message")
    kw = {**fields, "body": body}
    if status == 429:
        return RateLimitError(message, status, retry_after, **kw)
    cls: type[APIError] = {
        400: BadRequestError,
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
        409: BadRequestError,
        422: BadRequestError,
    }.get(status, ServerError if status >= 500 else APIError)
    return cls(message, status, **kw)


def stream_error(event: Any) -> APIError | None:
    """The error an SSE event carries in-band (any dialect's form), or None."""
    if not isinstance(event, dict) or (not event.get("error") and event.get("type") != "error"):
        return None
    fields = parse_error_body(event)
    status = _STATUS_BY_CODE.get(fields["code"].upper(), 500)
    return error_for(status, event)


_STATUS_BY_CODE = {
    "INVALID_INPUT": 400,
    "MODEL_NOT_FOUND": 404,
    "AUTHENTICATION_FAILED": 401,
    "PERMISSION_DENIED": 403,
    "RATE_LIMIT_EXCEEDED": 429,
    "BACKEND_UNAVAILABLE": 503,
    "INSUFFICIENT_MEMORY": 503,
    "DEADLINE_EXCEEDED": 504,
}
