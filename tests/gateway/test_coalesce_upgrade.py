"""A rolling upgrade: the gateway coalesces predictions (``PredictBatch``) but meets an inference
service from before that call. Each prediction is then sent as a ``Predict`` call of its own, still
with its own request id, and later ones go that way at once.

The old service is a real gRPC server on a socket that implements only ``Predict``, as the
generated servicer of the older contract did (``PredictBatch`` answers UNIMPLEMENTED)."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from gateway.clients import MeshClients
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.common.context import REQUEST_ID_HEADER, request_id_var
from services.common.settings import MeshEndpoints
from tests.grpc_servers import start_servicer


class _BeforePredictBatch(ipb_grpc.InferenceServiceServicer):
    """Answers Predict slowly enough that concurrent predictions queue behind the calls in flight."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def Predict(
        self, request: ipb.PredictRequest, context: grpc.aio.ServicerContext
    ) -> ipb.PredictResponse:
        self.calls.append("Predict")
        await asyncio.sleep(0.05)
        request_id = dict(context.invocation_metadata() or ())[REQUEST_ID_HEADER]
        return ipb.PredictResponse(model_name=request.model.name, request_id=request_id)

    async def PredictBatch(
        self, request: ipb.PredictBatchRequest, context: grpc.aio.ServicerContext
    ) -> ipb.PredictBatchResponse:
        self.calls.append("PredictBatch")
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")
        raise AssertionError("unreachable")


async def test_an_inference_service_without_predict_batch_gets_calls_of_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.common import internal_auth

    monkeypatch.setattr(internal_auth, "_current", [internal_auth.InternalAuthSettings(enable_auth=False)])
    old = _BeforePredictBatch()
    server, port = await start_servicer(ipb_grpc.add_InferenceServiceServicer_to_server, old)
    clients = MeshClients(
        MeshEndpoints(inference_address=f"127.0.0.1:{port}"), call_timeout=10, predict_calls=1
    )

    async def one(i: int) -> ipb.PredictResponse:
        request_id_var.set(f"request-{i}")  # this task's own context
        return await clients.predict(ipb.PredictRequest(model=common.ModelRef(name=f"m{i}")))

    try:
        replies = await asyncio.gather(*(one(i) for i in range(8)))
        assert [(r.model_name, r.request_id) for r in replies] == [
            (f"m{i}", f"request-{i}") for i in range(8)
        ]
        assert old.calls.count("PredictBatch") == 1 and old.calls.count("Predict") == 8
        again = await asyncio.gather(*(one(i) for i in range(8, 12)))
        assert [r.request_id for r in again] == [f"request-{i}" for i in range(8, 12)]
        assert old.calls.count("PredictBatch") == 1  # not asked again
    finally:
        await clients.close()
        await server.stop(None)
