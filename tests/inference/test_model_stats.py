"""``GetStats`` reports a model's Triton queue time as Triton itself counts it: the mean over every
request that the model's workers have queued."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.inference.tensors import from_numpy
from tests.inference.test_coalesced_predictions import triton_statistics
from tests.procs import Mesh


async def test_queue_ms_is_the_mean_queue_time_that_triton_reports(
    triton_mesh: Mesh, uploaded: dict[str, bytes]
) -> None:
    async with grpc.aio.insecure_channel(triton_mesh.address("inference")) as channel:
        stub = ipb_grpc.InferenceServiceStub(channel)
        x = np.random.default_rng(3).standard_normal((1, 4)).astype(np.float32)
        request = ipb.PredictRequest(model=common.ModelRef(name="mlp-onnx"), inputs=[from_numpy("x", x)])
        for _ in range(4):
            await stub.Predict(request, timeout=60)
        reported = (await stub.GetStats(ipb.GetStatsRequest(model_name="mlp-onnx"), timeout=30)).models
        counted = await triton_statistics(stub, "mlp-onnx")  # nothing ran in between
    queued_ns = sum(m.inference_stats.queue.ns for m in counted)
    queued = sum(m.inference_stats.queue.count for m in counted)
    assert queued >= 4 and queued_ns > 0
    assert [m.model_name for m in reported] == ["mlp-onnx"]
    assert reported[0].queue_ms == pytest.approx(queued_ns / queued / 1e6, rel=1e-6)
