"""Inference control and streaming over direct gRPC: PredictStream answers each request in order
(equal to onnxruntime) and ends with the error of a failing one; SetWorkerCount grows the pool by a
real tritonserver that serves predictions, then shrinks it back."""

from __future__ import annotations

import asyncio
import time

import grpc
import numpy as np
import pytest

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.inference.tensors import from_numpy, to_numpy
from tests.inference.models import onnx_reference
from tests.procs import Mesh

pytestmark = pytest.mark.slow


def _request(model: str, x: np.ndarray) -> ipb.PredictStreamRequest:
    return ipb.PredictStreamRequest(
        request=ipb.PredictRequest(model=common.ModelRef(name=model), inputs=[from_numpy("x", x)])
    )


async def test_predict_stream_in_order_then_error(triton_mesh: Mesh, uploaded: dict[str, bytes]) -> None:
    batches = [np.random.default_rng(i).standard_normal((i + 1, 4)).astype(np.float32) for i in range(3)]
    async with grpc.aio.insecure_channel(triton_mesh.address("inference")) as channel:
        stub = ipb_grpc.InferenceServiceStub(channel)
        replies = [
            r async for r in stub.PredictStream(iter([_request("mlp-onnx", b) for b in batches]), timeout=60)
        ]
        assert len(replies) == 3
        for reply, x in zip(replies, batches, strict=True):
            np.testing.assert_allclose(
                to_numpy(reply.response.outputs[0]),
                onnx_reference(uploaded["mlp-onnx"], x),
                rtol=1e-5,
                atol=1e-6,
            )
        call = stub.PredictStream(
            iter([_request("mlp-onnx", batches[0]), _request("no-such-model", batches[0])]), timeout=60
        )
        first = await call.read()
        assert first.response.model_name == "mlp-onnx"
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call.read()
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND and "no-such-model" in caught.value.details()


async def _ready_count(stub: ipb_grpc.InferenceServiceStub) -> int:
    workers = (await stub.ListWorkers(ipb.ListWorkersRequest(), timeout=10)).workers
    return sum(w.state == "ready" for w in workers)


async def test_set_worker_count_grows_and_shrinks(triton_mesh: Mesh, uploaded: dict[str, bytes]) -> None:
    async with grpc.aio.insecure_channel(triton_mesh.address("inference")) as channel:
        stub = ipb_grpc.InferenceServiceStub(channel)
        before = len((await stub.ListWorkers(ipb.ListWorkersRequest(), timeout=10)).workers)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.SetWorkerCount(ipb.SetWorkerCountRequest(count=-1), timeout=10)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        # Past the ceiling (MESHSERVE_INFERENCE_MAX_WORKERS, 8 by default) nothing is spawned: a fuzzed
        # scale request once started a thousand tritonservers.
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.SetWorkerCount(ipb.SetWorkerCountRequest(count=2_147_483_647), timeout=10)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "exceeds the limit of 8" in (caught.value.details() or "")
        assert len((await stub.ListWorkers(ipb.ListWorkersRequest(), timeout=10)).workers) == before
        grown = await stub.SetWorkerCount(ipb.SetWorkerCountRequest(count=before + 1), timeout=10)
        assert (grown.previous, grown.current) == (before, before + 1)
        deadline = time.monotonic() + 90
        while await _ready_count(stub) < before + 1:  # a tritonserver starts in a few seconds
            assert time.monotonic() < deadline, "the new worker never became ready"
            await asyncio.sleep(0.2)
        # Place the model on every worker, the new one included, and predict.
        load = await stub.LoadModel(
            ipb.LoadModelRequest(model=common.ModelRef(name="mlp-onnx"), replicas=before + 1), timeout=120
        )
        assert len(load.state.worker_ids) == before + 1
        x = np.ones((2, 4), np.float32)
        reply = await stub.Predict(_request("mlp-onnx", x).request, timeout=60)
        np.testing.assert_allclose(
            to_numpy(reply.outputs[0]), onnx_reference(uploaded["mlp-onnx"], x), rtol=1e-5, atol=1e-6
        )
        shrunk = await stub.SetWorkerCount(ipb.SetWorkerCountRequest(count=before), timeout=30)
        assert (shrunk.previous, shrunk.current) == (before + 1, before)
        assert len((await stub.ListWorkers(ipb.ListWorkersRequest(), timeout=10)).workers) == before
        reply = await stub.Predict(_request("mlp-onnx", x).request, timeout=60)
        assert reply.worker_id in {w.id for w in (await stub.ListWorkers(ipb.ListWorkersRequest())).workers}
