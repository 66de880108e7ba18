"""The status code tables of the canonical error model (:mod:`services.common.errors`): which gRPC
status each reason ends a call with, which HTTP status each gRPC status renders as, and which reason
a bare gRPC status (one without an ``ErrorDetail``) maps back to."""

from __future__ import annotations

import grpc

from meshserve.v1 import common_pb2

Reason = common_pb2.Reason

#: Canonical reason → gRPC status code. Every reason has exactly one row.
REASON_TO_GRPC: dict[int, grpc.StatusCode] = {
    Reason.REASON_INVALID_INPUT: grpc.StatusCode.INVALID_ARGUMENT,
    Reason.REASON_MODEL_NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    Reason.REASON_MODEL_LOAD_FAILED: grpc.StatusCode.INTERNAL,
    Reason.REASON_INFERENCE_FAILED: grpc.StatusCode.INTERNAL,
    Reason.REASON_PLUGIN_NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    Reason.REASON_PLUGIN_LOAD_FAILED: grpc.StatusCode.INTERNAL,
    Reason.REASON_RATE_LIMIT_EXCEEDED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Reason.REASON_INSUFFICIENT_MEMORY: grpc.StatusCode.UNAVAILABLE,  # 503, as document 004 §8.3 says
    Reason.REASON_BACKEND_UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    Reason.REASON_AUTHENTICATION_FAILED: grpc.StatusCode.UNAUTHENTICATED,
    Reason.REASON_PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    Reason.REASON_MODEL_NOT_LOADED: grpc.StatusCode.FAILED_PRECONDITION,
    Reason.REASON_MODEL_DOWNLOAD_FAILED: grpc.StatusCode.UNAVAILABLE,
    Reason.REASON_MODEL_VALIDATION_FAILED: grpc.StatusCode.INVALID_ARGUMENT,
    Reason.REASON_ALREADY_EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    Reason.REASON_PAYLOAD_TOO_LARGE: grpc.StatusCode.INVALID_ARGUMENT,
    Reason.REASON_NOT_IMPLEMENTED: grpc.StatusCode.UNIMPLEMENTED,
    Reason.REASON_DEADLINE_EXCEEDED: grpc.StatusCode.DEADLINE_EXCEEDED,
    Reason.REASON_INTERNAL: grpc.StatusCode.INTERNAL,
    Reason.REASON_NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    Reason.REASON_CANCELLED: grpc.StatusCode.CANCELLED,
    Reason.REASON_FAILED_PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    Reason.REASON_QUOTA_EXCEEDED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Reason.REASON_BUDGET_EXCEEDED: grpc.StatusCode.RESOURCE_EXHAUSTED,
}

#: gRPC status code → HTTP status, after google/rpc/code.proto (CANCELLED is nginx's 499).
GRPC_TO_HTTP: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}

#: Reason a bare gRPC status maps back to when a peer sent no ErrorDetail.
GRPC_TO_REASON: dict[grpc.StatusCode, Reason] = {
    grpc.StatusCode.CANCELLED: Reason.REASON_CANCELLED,
    grpc.StatusCode.INVALID_ARGUMENT: Reason.REASON_INVALID_INPUT,
    grpc.StatusCode.OUT_OF_RANGE: Reason.REASON_INVALID_INPUT,
    grpc.StatusCode.DEADLINE_EXCEEDED: Reason.REASON_DEADLINE_EXCEEDED,
    grpc.StatusCode.NOT_FOUND: Reason.REASON_NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS: Reason.REASON_ALREADY_EXISTS,
    grpc.StatusCode.PERMISSION_DENIED: Reason.REASON_PERMISSION_DENIED,
    grpc.StatusCode.RESOURCE_EXHAUSTED: Reason.REASON_RATE_LIMIT_EXCEEDED,
    grpc.StatusCode.FAILED_PRECONDITION: Reason.REASON_FAILED_PRECONDITION,
    grpc.StatusCode.ABORTED: Reason.REASON_FAILED_PRECONDITION,
    grpc.StatusCode.UNIMPLEMENTED: Reason.REASON_NOT_IMPLEMENTED,
    grpc.StatusCode.UNAVAILABLE: Reason.REASON_BACKEND_UNAVAILABLE,
    grpc.StatusCode.UNAUTHENTICATED: Reason.REASON_AUTHENTICATION_FAILED,
}
