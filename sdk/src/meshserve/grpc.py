"""Typed gRPC clients of the internal services (``pip install meshserve[grpc]``).

grpc and the generated stubs (:mod:`meshserve.v1`) are imported when a channel is opened, so
``import meshserve`` never needs them::

    from meshserve.grpc import ServiceClient
    from meshserve.v1 import registry_pb2
    with ServiceClient("127.0.0.1:50052") as registry:
        models = registry.registry.ListModels(registry_pb2.ListModelsRequest(), timeout=5).models

Each property returns the generated stub (``RegistryServiceStub`` …; their ``.pyi`` types ship
with the package). With auth on, pass ``internal_token`` (``MESHSERVE_INTERNAL_TOKEN``): it is
sent as ``x-meshserve-internal-token`` on every call.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from meshserve.closing import Closing
from meshserve.errors import APIError, error_for

if TYPE_CHECKING:  # types only; nothing is imported at run time until a channel opens
    from meshserve.v1.auth_pb2_grpc import AuthServiceStub
    from meshserve.v1.autoscaler_pb2_grpc import AutoscalerServiceStub
    from meshserve.v1.inference_pb2_grpc import InferenceServiceStub
    from meshserve.v1.registry_pb2_grpc import RegistryServiceStub
    from meshserve.v1.speech_pb2_grpc import SpeechServiceStub

DEFAULT_PORTS = {"auth": 50051, "registry": 50052, "inference": 50053, "speech": 50054, "autoscaler": 50055}
INTERNAL_TOKEN_HEADER = "x-meshserve-internal-token"


def _grpc() -> Any:
    try:
        return importlib.import_module("grpc")
    except ImportError as exc:
        raise ImportError("meshserve.grpc needs the grpc extra: pip install 'meshserve[grpc]'") from exc


class _TokenInterceptor:
    """Adds the internal token to every unary and streaming call's metadata."""

    def __init__(self, token: str) -> None:
        self.token = token

    def _details(self, details: Any) -> Any:
        grpc = _grpc()
        metadata = [*(details.metadata or []), (INTERNAL_TOKEN_HEADER, self.token)]

        base: Any = grpc.ClientCallDetails

        class Details(base):
            method = details.method
            timeout = details.timeout
            credentials = details.credentials
            wait_for_ready = details.wait_for_ready
            compression = details.compression

        out = Details()
        out.metadata = metadata
        return out

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._details(details), requests)


def _stub(module: str, name: str, channel: Any) -> Any:
    return getattr(importlib.import_module(f"meshserve.v1.{module}_pb2_grpc"), name)(channel)


class ServiceClient(Closing):
    """One channel to one service address with typed stubs for every service."""

    def __init__(self, address: str, internal_token: str | None = None, secure: bool = False) -> None:
        grpc = _grpc()
        self.address = address
        channel = (
            grpc.secure_channel(address, grpc.ssl_channel_credentials())
            if secure
            else grpc.insecure_channel(address)
        )
        token = internal_token if internal_token is not None else os.environ.get("MESHSERVE_INTERNAL_TOKEN")
        if token:
            grpc_interceptor = type(
                "TokenInterceptor",
                (
                    _TokenInterceptor,
                    grpc.UnaryUnaryClientInterceptor,
                    grpc.UnaryStreamClientInterceptor,
                    grpc.StreamUnaryClientInterceptor,
                    grpc.StreamStreamClientInterceptor,
                ),
                {},
            )(token)
            channel = grpc.intercept_channel(channel, grpc_interceptor)
        self.channel = channel

    @property
    def auth(self) -> AuthServiceStub:
        """meshserve.v1.AuthService."""
        return _stub("auth", "AuthServiceStub", self.channel)

    @property
    def registry(self) -> RegistryServiceStub:
        """meshserve.v1.RegistryService."""
        return _stub("registry", "RegistryServiceStub", self.channel)

    @property
    def inference(self) -> InferenceServiceStub:
        """meshserve.v1.InferenceService."""
        return _stub("inference", "InferenceServiceStub", self.channel)

    @property
    def speech(self) -> SpeechServiceStub:
        """meshserve.v1.SpeechService."""
        return _stub("speech", "SpeechServiceStub", self.channel)

    @property
    def autoscaler(self) -> AutoscalerServiceStub:
        """meshserve.v1.AutoscalerService."""
        return _stub("autoscaler", "AutoscalerServiceStub", self.channel)

    def close(self) -> None:
        """Closes the channel."""
        self.channel.close()


__all__ = ["DEFAULT_PORTS", "ServiceClient"]


#: HTTP status of each gRPC status code, as the gateway maps them, so a failed gRPC call raises the
#: same SDK exception as the REST call would (NotFoundError, RateLimitError …).
_HTTP_OF_GRPC = {
    "INVALID_ARGUMENT": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "FAILED_PRECONDITION": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


def api_error(error: Any) -> APIError:
    """A failed call (a ``grpc.RpcError``), or one failed request of a ``PredictBatch`` (its
    ``CallError``), as the SDK's exception, with the canonical reason (``.code``, such as
    ``MODEL_NOT_FOUND``), the facts with their JSON types (``.details``), the suggestion and, for
    rate limits, ``retry_after``::

        try:
            registry.registry.GetModel(request, timeout=5)
        except grpc.RpcError as failure:
            raise meshserve.grpc.api_error(failure) from failure
    """
    from meshserve.v1 import common_pb2

    if isinstance(error, common_pb2.CallError):
        codes = {code.value[0]: code for code in _grpc().StatusCode}
        status_name = codes.get(error.code, _grpc().StatusCode.UNKNOWN).name
        text = error.message
        found: tuple[str, Any] | None = (error.message, error.detail) if error.HasField("detail") else None
    else:
        status_name, text, found = status_of(error).name, error.details(), error_detail(error)
    body: dict[str, Any] = {"error": {"code": status_name, "message": text or status_name}}
    retry_after = 0
    if found is not None:
        message, detail = found
        body["error"] = {
            "code": common_pb2.Reason.Name(detail.reason).removeprefix("REASON_"),
            "message": message or body["error"]["message"],
            "details": facts_of(detail.facts, detail.metadata),
            "suggestion": detail.suggestion,
        }
        retry_after = detail.retry_after_seconds
    return error_for(_HTTP_OF_GRPC.get(status_name, 500), body, retry_after)


# What grpc.aio reports when a client's send fails because the connection under the call broke (the
# server died mid-stream): INTERNAL "Internal error from Core", whose debug string names the failed
# send, instead of UNAVAILABLE (grpc/grpc issue 36066).
_SEND_ON_A_BROKEN_CONNECTION = 'Failed "execute_batch"'


def status_of(error: Any) -> Any:
    """The status code of a failed call, with one correction: a client-streaming call whose send
    failed because the server went away is UNAVAILABLE (worth a retry), as a server never says it."""
    code = error.code()
    debug = getattr(error, "debug_error_string", None)
    if code.name == "INTERNAL" and debug is not None and debug().startswith(_SEND_ON_A_BROKEN_CONNECTION):
        return type(code).UNAVAILABLE
    return code


def error_detail(error: Any) -> tuple[str, Any] | None:
    """The status message and the meshserve ``ErrorDetail`` a failed call carries in its
    ``grpc-status-details-bin`` trailer, or None when it carries none (a bare gRPC status)."""
    from google.rpc import status_pb2

    from meshserve.v1 import common_pb2

    try:
        trailing = error.trailing_metadata() or ()
    except Exception:
        return None
    for key, value in trailing:
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        for packed in status.details:
            detail = common_pb2.ErrorDetail()
            if packed.Is(detail.DESCRIPTOR) and packed.Unpack(detail):
                return status.message, detail
    return None


def facts_of(facts: Any, text: Mapping[str, str]) -> dict[str, Any]:
    """The facts of an error (``ErrorDetail.facts``, ``JobError.facts``: a Struct) with their JSON
    types (whole numbers as ints: a Struct holds doubles), or their ``text`` copy when a peer sent
    only that."""
    if not facts.fields:
        return dict(text)
    from google.protobuf import json_format

    return {k: _whole_numbers_as_ints(v) for k, v in json_format.MessageToDict(facts).items()}


def _whole_numbers_as_ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers_as_ints(v) for v in value]
    return value
