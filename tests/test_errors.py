"""The canonical error tables: every row, and the round trip through a real gRPC server."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

import meshserve
from meshserve.grpc import api_error, error_detail, facts_of, status_of
from meshserve.v1 import autoscaler_pb2 as pb
from meshserve.v1 import autoscaler_pb2_grpc as pb_grpc
from meshserve.v1 import common_pb2
from services.common import errors
from services.common.errors import GRPC_TO_HTTP, REASON_TO_GRPC, MeshError
from services.common.facts import facts_as_struct
from tests.grpc_servers import start_servicer

DOCUMENTED_HTTP = {  # ARCHITECTURE.md, "Errors"
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
}

DOCUMENT_004_STATUS = {  # document 004 §8.3
    "INVALID_INPUT": 400,
    "MODEL_NOT_FOUND": 404,
    "MODEL_LOAD_FAILED": 500,
    "INFERENCE_FAILED": 500,
    "PLUGIN_NOT_FOUND": 404,
    "PLUGIN_LOAD_FAILED": 500,
    "RATE_LIMIT_EXCEEDED": 429,
    "INSUFFICIENT_MEMORY": 503,
    "BACKEND_UNAVAILABLE": 503,
    "AUTHENTICATION_FAILED": 401,
    "PERMISSION_DENIED": 403,
}


@pytest.mark.parametrize(("code", "status"), sorted(DOCUMENTED_HTTP.items(), key=lambda kv: kv[1]))
def test_grpc_to_http_rows(code: grpc.StatusCode, status: int) -> None:
    assert GRPC_TO_HTTP[code] == status


@pytest.mark.parametrize(("name", "status"), sorted(DOCUMENT_004_STATUS.items()))
def test_documented_reason_statuses(name: str, status: int) -> None:
    error = MeshError("x", reason=common_pb2.Reason.Value(f"REASON_{name}"))
    assert error.code == name
    assert error.http_status == status


@pytest.mark.parametrize("reason", [r for r in common_pb2.Reason.values() if r != 0])
def test_every_reason_has_a_grpc_code_and_a_class(reason: int) -> None:
    assert reason in REASON_TO_GRPC
    cls = errors._error_class_for(reason)
    assert cls.reason == reason


#: Facts of every JSON type; a Path is not one and travels as its text.
FACTS = {
    "model_id": "x",
    "max_length": 4096,
    "ratio": 0.5,
    "strict": True,
    "shape": [1, 3],
    "path": Path("/m"),
}


class _Failing(pb_grpc.AutoscalerServiceServicer):
    async def GetPolicy(
        self, request: pb.GetPolicyRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetPolicyResponse:
        if request.target == "boom":
            raise ZeroDivisionError("unexpected")
        if request.target == "limited":
            raise errors.RateLimitExceeded("slow down", retry_after=7)
        raise errors.ModelNotFound(
            "model 'x' not found",
            details=FACTS,
            suggestion="list models first",
            retry_after=3,
        )


async def test_error_survives_the_wire(monkeypatch: pytest.MonkeyPatch) -> None:
    """A MeshError raised in a servicer arrives at the client as the same canonical error."""
    from services.common import internal_auth
    from services.common.interceptors import ServerInterceptor

    # Other tests build in-process gateways with auth on; this server runs with auth off.
    monkeypatch.setattr(internal_auth, "_current", [internal_auth.InternalAuthSettings(enable_auth=False)])

    server, port = await start_servicer(
        pb_grpc.add_AutoscalerServiceServicer_to_server, _Failing(), interceptors=[ServerInterceptor()]
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.AutoscalerServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.GetPolicy(pb.GetPolicyRequest(target="x"), timeout=5)
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND
            rebuilt = MeshError.from_rpc_error(caught.value)
            assert isinstance(rebuilt, errors.ModelNotFound)
            assert rebuilt.code == "MODEL_NOT_FOUND"
            # Typed on the way through (a Struct holds doubles: whole numbers come back as ints) ...
            assert rebuilt.details == {**FACTS, "path": "/m"}
            assert type(rebuilt.details["max_length"]) is int and type(rebuilt.details["ratio"]) is float
            # ... and as text for clients that read only google.rpc.ErrorDetail.metadata.
            found = error_detail(caught.value)
            assert found is not None
            _, detail = found
            assert dict(detail.metadata) == {
                "model_id": "x",
                "max_length": "4096",
                "ratio": "0.5",
                "strict": "true",
                "shape": "[1, 3]",
                "path": "/m",
            }
            assert rebuilt.suggestion == "list models first"
            assert rebuilt.retry_after == 3

            # The SDK raises the same exception for it as for the REST call.
            sdk_error = api_error(caught.value)
            assert isinstance(sdk_error, meshserve.NotFoundError) and sdk_error.status_code == 404
            assert (sdk_error.code, sdk_error.message) == ("MODEL_NOT_FOUND", "model 'x' not found")
            assert (
                sdk_error.details == {**FACTS, "path": "/m"} and sdk_error.suggestion == "list models first"
            )

            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.GetPolicy(pb.GetPolicyRequest(target="limited"), timeout=5)
            limited = api_error(caught.value)
            assert isinstance(limited, meshserve.RateLimitError) and limited.retry_after == 7
            assert limited.code == "RATE_LIMIT_EXCEEDED" and limited.status_code == 429

            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.GetPolicy(pb.GetPolicyRequest(target="boom"), timeout=5)
            assert caught.value.code() == grpc.StatusCode.INTERNAL
            assert MeshError.from_rpc_error(caught.value).code == "INTERNAL"
            assert isinstance(api_error(caught.value), meshserve.ServerError)
    finally:
        await server.stop(None)


def test_facts_from_a_peer_that_sends_only_text() -> None:
    assert facts_of(facts_as_struct({}), {"max_length": "4096"}) == {"max_length": "4096"}


def test_bare_status_maps_to_a_reason() -> None:
    class Bare(grpc.RpcError):
        def code(self) -> grpc.StatusCode:
            return grpc.StatusCode.UNAVAILABLE

        def details(self) -> str:
            return "connection refused"

        def trailing_metadata(self) -> tuple[()]:
            return ()

    rebuilt = MeshError.from_rpc_error(Bare())
    assert isinstance(rebuilt, errors.BackendUnavailable)
    assert rebuilt.http_status == 503
    sdk_error = api_error(Bare())
    assert isinstance(sdk_error, meshserve.ServerError) and sdk_error.status_code == 503
    assert (sdk_error.code, sdk_error.message, sdk_error.details) == ("UNAVAILABLE", "connection refused", {})


def test_a_bare_cancel_from_the_server_is_unavailable_and_worth_a_retry() -> None:
    """A caller that did not cancel, yet hears CANCELLED, was cut off by a server that stopped."""

    class Bare(grpc.RpcError):
        def code(self) -> grpc.StatusCode:
            return grpc.StatusCode.CANCELLED

        def details(self) -> str:
            return "CANCELLED"

        def trailing_metadata(self) -> tuple[()]:
            return ()

    rebuilt = MeshError.from_rpc_error(Bare())
    assert isinstance(rebuilt, errors.BackendUnavailable)
    assert (rebuilt.http_status, rebuilt.retry_after) == (503, 1)


def test_a_send_that_met_a_broken_connection_is_unavailable() -> None:
    """grpc-core reports a client stream's send on a connection the dying server broke as INTERNAL
    ``Failed "execute_batch"``; callers see it as the server going away, not as a server fault."""

    class Bare(grpc.RpcError):
        def __init__(self, debug: str) -> None:
            self.debug = debug

        def code(self) -> grpc.StatusCode:
            return grpc.StatusCode.INTERNAL

        def details(self) -> str:
            return "Internal error from Core"

        def debug_error_string(self) -> str:
            return self.debug

        def trailing_metadata(self) -> tuple[()]:
            return ()

    broken = Bare('Failed "execute_batch": (<grpc._cython.cygrpc.SendMessageOperation object>,)')
    assert status_of(broken) is grpc.StatusCode.UNAVAILABLE
    assert isinstance(MeshError.from_rpc_error(broken), errors.BackendUnavailable)
    assert api_error(broken).status_code == 503
    fault = Bare("division by zero")  # a server fault's status
    assert status_of(fault) is grpc.StatusCode.INTERNAL
    assert MeshError.from_rpc_error(fault).code == "INTERNAL"
    assert api_error(fault).status_code == 500


def test_one_request_of_a_batch_fails_with_the_error_a_call_of_its_own_would_raise() -> None:
    """PredictBatch carries each failed item as a CallError; it rebuilds into the same MeshError, and
    the SDK's api_error raises the same exception for it as for the failed call."""
    error = errors.RateLimitExceeded(
        "model 'm' is at capacity", details=FACTS, retry_after=2, suggestion="slow down"
    )
    carried = common_pb2.CallError.FromString(error.to_call_error().SerializeToString())
    assert carried.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    rebuilt = MeshError.from_call_error(carried)
    assert type(rebuilt) is errors.RateLimitExceeded
    as_json = {**FACTS, "path": "/m"}  # facts travel with their JSON types
    assert (rebuilt.message, rebuilt.details, rebuilt.retry_after) == (error.message, as_json, 2)
    sdk_error = api_error(carried)
    assert isinstance(sdk_error, meshserve.RateLimitError) and sdk_error.retry_after == 2
    assert (sdk_error.code, sdk_error.details, sdk_error.suggestion) == (
        "RATE_LIMIT_EXCEEDED",
        as_json,
        "slow down",
    )
    bare = common_pb2.CallError(code=grpc.StatusCode.UNAVAILABLE.value[0], message="gone")  # no ErrorDetail
    assert MeshError.from_call_error(bare).code == "BACKEND_UNAVAILABLE"
    assert isinstance(api_error(bare), meshserve.APIError) and api_error(bare).status_code == 503
