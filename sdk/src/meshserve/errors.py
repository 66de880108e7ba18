"""Exceptions raised by the SDK.

Exception tree::

    MeshserveError                 (.message)
    ├── NetworkError               no answer: connection refused, reset, DNS
    │   └── TimeoutError           the request outlived its timeout
    └── APIError                   the gateway answered with an error (.status_code, .code, .body)
        ├── AuthenticationError    401
        ├── PermissionDeniedError  403
        ├── NotFoundError          404
        ├── RateLimitError         429 (.retry_after)
        └── ServerError            5xx

The gateway's five error envelopes (one per documented surface) are all parsed into these.
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


class APIError(MeshserveError):
    """The gateway answered with an error status."""

    def __init__(self, message: str, status_code: int, code: str = "", body: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.body = body

    def __str__(self) -> str:
        return (
            f"{self.status_code} {self.code}: {self.message}"
            if self.code
            else f"{self.status_code}: {self.message}"
        )


class AuthenticationError(APIError):
    """401: missing or invalid credentials."""


class PermissionDeniedError(APIError):
    """403: the credential's role is too low."""


class NotFoundError(APIError):
    """404: no such model or endpoint."""


class RateLimitError(APIError):
    """429: over the plan's limit."""

    def __init__(
        self, message: str, status_code: int, code: str = "", body: Any = None, retry_after: float = 0
    ) -> None:
        super().__init__(message, status_code, code, body)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the mesh failed."""


def parse_error_body(body: Any) -> tuple[str, str]:
    """(message, code) from any of the gateway's envelopes."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # OpenAI / ACE3, 004, 003
            return str(error.get("message", "")), str(error.get("reason") or error.get("code") or "")
        if isinstance(error, str):  # 001 or KServe
            detail = body.get("detail")
            message = f"{error}: {detail}" if detail and detail != error else error
            return message, str(body.get("code", ""))
    return (str(body) if body else "error"), ""


def error_for(status: int, body: Any, retry_after: float = 0) -> APIError:
    """The exception for an error response."""
    message, code = parse_error_body(body)
    if status == 401:
        return AuthenticationError(message, status, code, body)
    if status == 403:
        return PermissionDeniedError(message, status, code, body)
    if status == 404:
        return NotFoundError(message, status, code, body)
    if status == 429:
        return RateLimitError(message, status, code, body, retry_after)
    if status >= 500:
        return ServerError(message, status, code, body)
    return APIError(message, status, code, body)
