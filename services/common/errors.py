"""The one canonical error model of meshserve.

Every failure is a :class:`MeshError` carrying a :class:`Reason` (ARCHITECTURE.md, "Errors"). The reason
decides the gRPC status code through :data:`REASON_TO_GRPC`; on the wire the error travels as a
``google.rpc.Status`` whose details hold a packed :class:`ErrorDetail`. Gateway dialects render it
through :attr:`MeshError.http_status` and their own envelopes.

Exception tree::

    MeshError
    ├── InvalidInput            (INVALID_INPUT, INVALID_ARGUMENT)
    ├── NotFound                (NOT_FOUND)
    │   └── ModelNotFound       (MODEL_NOT_FOUND)
    │   └── PluginNotFound      (PLUGIN_NOT_FOUND)
    ├── PluginLoadFailed        (PLUGIN_LOAD_FAILED, INTERNAL)
    ├── ModelNotLoaded          (MODEL_NOT_LOADED, FAILED_PRECONDITION)
    ├── AlreadyExists           (ALREADY_EXISTS)
    ├── ModelLoadFailed         (MODEL_LOAD_FAILED, INTERNAL)
    ├── ModelValidationFailed   (MODEL_VALIDATION_FAILED, INVALID_ARGUMENT)
    ├── ModelDownloadFailed     (MODEL_DOWNLOAD_FAILED, UNAVAILABLE)
    ├── PayloadTooLarge         (PAYLOAD_TOO_LARGE, INVALID_ARGUMENT)
    ├── InferenceFailed         (INFERENCE_FAILED, INTERNAL)
    ├── RateLimitExceeded       (RATE_LIMIT_EXCEEDED, RESOURCE_EXHAUSTED)
    │   └── AtCapacity          (admission refused: the gateway, a model; Retry-After 1)
    ├── QuotaExceeded           (QUOTA_EXCEEDED, RESOURCE_EXHAUSTED)
    ├── BudgetExceeded          (BUDGET_EXCEEDED, RESOURCE_EXHAUSTED)
    ├── InsufficientMemory      (INSUFFICIENT_MEMORY, UNAVAILABLE)
    ├── BackendUnavailable      (BACKEND_UNAVAILABLE, UNAVAILABLE)
    ├── AuthenticationFailed    (AUTHENTICATION_FAILED, UNAUTHENTICATED)
    ├── PermissionDenied        (PERMISSION_DENIED)
    ├── NotImplementedYet       (NOT_IMPLEMENTED, UNIMPLEMENTED)
    └── InternalError           (INTERNAL)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import status_pb2
from grpc_status import rpc_status

from meshserve.grpc import error_detail, facts_of, status_of
from meshserve.v1 import common_pb2
from services.common.error_codes import GRPC_TO_HTTP, GRPC_TO_REASON, REASON_TO_GRPC
from services.common.facts import facts_as_struct, facts_as_text, json_value

Reason = common_pb2.Reason


def reason_name(reason: int) -> str:
    """Documented code of a reason, such as ``MODEL_NOT_FOUND`` (document 004 §8.3)."""
    return Reason.Name(reason).removeprefix("REASON_")


class MeshError(Exception):
    """A failure with a canonical reason; subclasses fix the reason."""

    reason: Reason = Reason.REASON_INTERNAL

    def __init__(
        self,
        message: str,
        *,
        reason: Reason | None = None,
        details: Mapping[str, Any] | None = None,
        suggestion: str = "",
        retry_after: int = 0,
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        #: Facts about the failure with their JSON types (a limit stays a number).
        self.details: dict[str, Any] = {k: json_value(v) for k, v in (details or {}).items()}
        self.suggestion = suggestion
        self.retry_after = retry_after

    @property
    def code(self) -> str:
        """Documented reason code, such as ``INVALID_INPUT``."""
        return reason_name(self.reason)

    @property
    def grpc_code(self) -> grpc.StatusCode:
        """gRPC status code of this reason."""
        return REASON_TO_GRPC.get(self.reason, grpc.StatusCode.INTERNAL)

    @property
    def http_status(self) -> int:
        """HTTP status of this error."""
        return GRPC_TO_HTTP[self.grpc_code]

    def detail(self) -> common_pb2.ErrorDetail:
        """The canonical reason and facts of this error, as its rich status carries them."""
        return common_pb2.ErrorDetail(
            reason=self.reason,
            metadata=facts_as_text(self.details),
            suggestion=self.suggestion,
            retry_after_seconds=self.retry_after,
            facts=facts_as_struct(self.details),
        )

    def to_status(self) -> grpc.Status:
        """This error as a rich gRPC status (``grpc-status-details-bin``)."""
        packed = any_pb2.Any()
        packed.Pack(self.detail())
        proto = status_pb2.Status(code=self.grpc_code.value[0], message=self.message, details=[packed])
        return rpc_status.to_status(proto)

    def to_call_error(self) -> common_pb2.CallError:
        """This error as one request of a batch carries it (the same status a call of its own ends with)."""
        return common_pb2.CallError(code=self.grpc_code.value[0], message=self.message, detail=self.detail())

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> MeshError:
        """Rebuilds the canonical error a peer sent, or derives one from a bare status."""
        code: grpc.StatusCode = status_of(error)
        found = error_detail(error)
        return _rebuilt(code, error.details() or code.name, found)

    @classmethod
    def from_call_error(cls, error: common_pb2.CallError) -> MeshError:
        """Rebuilds the canonical error of one request of a batch."""
        code = _GRPC_CODES.get(error.code, grpc.StatusCode.UNKNOWN)
        found = (error.message, error.detail) if error.HasField("detail") else None
        return _rebuilt(code, error.message or code.name, found)


_GRPC_CODES: dict[int, grpc.StatusCode] = {code.value[0]: code for code in grpc.StatusCode}


def _rebuilt(code: grpc.StatusCode, message: str, found: tuple[str, Any] | None) -> MeshError:
    """The canonical error of a status: its ``ErrorDetail`` when the peer sent one, else derived from
    the bare code."""
    if found is not None:
        status_message, detail = found
        return _error_class_for(detail.reason)(
            status_message or message,
            reason=detail.reason,
            details=facts_of(detail.facts, detail.metadata),
            suggestion=detail.suggestion,
            retry_after=detail.retry_after_seconds,
        )
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
        # A bare CANCELLED reaching a caller is its server stopping (its own cancel raises CancelledError).
        return BackendUnavailable(message, reason=Reason.REASON_BACKEND_UNAVAILABLE, retry_after=1)
    reason = GRPC_TO_REASON.get(code, Reason.REASON_INTERNAL)
    return _error_class_for(reason)(message, reason=reason)


class InvalidInput(MeshError):
    """The request is malformed or violates a limit."""

    reason = Reason.REASON_INVALID_INPUT


class NotFound(MeshError):
    """A resource does not exist."""

    reason = Reason.REASON_NOT_FOUND


class ModelNotFound(NotFound):
    """The named model does not exist."""

    reason = Reason.REASON_MODEL_NOT_FOUND


class PluginNotFound(NotFound):
    """The named plugin does not exist."""

    reason = Reason.REASON_PLUGIN_NOT_FOUND


class PluginLoadFailed(MeshError):
    """A plugin could not be loaded."""

    reason = Reason.REASON_PLUGIN_LOAD_FAILED


class ModelNotLoaded(MeshError):
    """The model exists but is not loaded."""

    reason = Reason.REASON_MODEL_NOT_LOADED


class AlreadyExists(MeshError):
    """The resource already exists."""

    reason = Reason.REASON_ALREADY_EXISTS


class ModelLoadFailed(MeshError):
    """A model could not be loaded."""

    reason = Reason.REASON_MODEL_LOAD_FAILED


class ModelValidationFailed(MeshError):
    """An artifact failed validation."""

    reason = Reason.REASON_MODEL_VALIDATION_FAILED


class ModelDownloadFailed(MeshError):
    """Fetching a model from a URL or hub failed."""

    reason = Reason.REASON_MODEL_DOWNLOAD_FAILED


class PayloadTooLarge(MeshError):
    """A payload exceeded a configured limit."""

    reason = Reason.REASON_PAYLOAD_TOO_LARGE


class InferenceFailed(MeshError):
    """Running a model failed."""

    reason = Reason.REASON_INFERENCE_FAILED


class RateLimitExceeded(MeshError):
    """A rate limit or quota was exceeded."""

    reason = Reason.REASON_RATE_LIMIT_EXCEEDED


class QuotaExceeded(MeshError):
    """The tenant's monthly token quota is used up (details: quota, used, reset)."""

    reason = Reason.REASON_QUOTA_EXCEEDED


class BudgetExceeded(MeshError):
    """The tenant's monthly spending limit is reached (details: limit_usd, spent_usd, reset)."""

    reason = Reason.REASON_BUDGET_EXCEEDED


class AtCapacity(RateLimitExceeded):
    """Admission refused new work: what takes it holds ``limit`` already (retry after a second)."""

    def __init__(self, what: str, in_flight: int, limit: int, unit: str = "requests", **facts: Any) -> None:
        message = f"{what} is at capacity: {in_flight} {unit} in flight"
        details = {**facts, "in_flight": in_flight, "limit": limit}
        super().__init__(
            message, details=details, suggestion="retry after Retry-After, or add replicas", retry_after=1
        )


class InsufficientMemory(MeshError):
    """Not enough memory to do the work."""

    reason = Reason.REASON_INSUFFICIENT_MEMORY


class BackendUnavailable(MeshError):
    """A backend or dependency is unavailable."""

    reason = Reason.REASON_BACKEND_UNAVAILABLE


class AuthenticationFailed(MeshError):
    """Credentials are missing or invalid."""

    reason = Reason.REASON_AUTHENTICATION_FAILED


class PermissionDenied(MeshError):
    """The caller lacks the role the call needs."""

    reason = Reason.REASON_PERMISSION_DENIED


class NotImplementedYet(MeshError):
    """The call is not implemented by this deployment."""

    reason = Reason.REASON_NOT_IMPLEMENTED


class InternalError(MeshError):
    """An unexpected failure."""

    reason = Reason.REASON_INTERNAL


class DeadlineExceeded(MeshError):
    """The deadline passed before the work completed."""

    reason = Reason.REASON_DEADLINE_EXCEEDED


class Cancelled(MeshError):
    """The caller went away."""

    reason = Reason.REASON_CANCELLED


class FailedPrecondition(MeshError):
    """The resource is not in a state that allows the call."""

    reason = Reason.REASON_FAILED_PRECONDITION


def _classes_by_reason() -> dict[int, type[MeshError]]:
    """Every error class by its reason; a parent wins over a subclass that keeps its reason."""
    found: dict[int, type[MeshError]] = {}
    level: list[type[MeshError]] = MeshError.__subclasses__()
    while level:
        for cls in level:
            found.setdefault(cls.reason, cls)
        level = [sub for cls in level for sub in cls.__subclasses__()]
    return found


_CLASS_BY_REASON = _classes_by_reason()


def _error_class_for(reason: int) -> type[MeshError]:
    return _CLASS_BY_REASON.get(reason, MeshError)


__all__ = [
    "GRPC_TO_HTTP",
    "REASON_TO_GRPC",
    "AlreadyExists",
    "AuthenticationFailed",
    "BackendUnavailable",
    "BudgetExceeded",
    "Cancelled",
    "DeadlineExceeded",
    "FailedPrecondition",
    "InferenceFailed",
    "InsufficientMemory",
    "InternalError",
    "InvalidInput",
    "MeshError",
    "ModelDownloadFailed",
    "ModelLoadFailed",
    "ModelNotFound",
    "ModelNotLoaded",
    "ModelValidationFailed",
    "NotFound",
    "NotImplementedYet",
    "PayloadTooLarge",
    "PermissionDenied",
    "PluginLoadFailed",
    "PluginNotFound",
    "QuotaExceeded",
    "RateLimitExceeded",
    "Reason",
    "reason_name",
]
