"""``InferenceService.PredictBatchStream`` on the real inference service and Triton: batches sent on
one stream without waiting are each answered with their id, their items exactly as onnxruntime and
torch compute them, each with its own request id and its own error."""

from __future__ import annotations

import asyncio

import grpc
import numpy as np
import pytest

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.common.context import REQUEST_ID_HEADER
from services.common.errors import MeshError, ModelNotFound
from services.inference.tensors import from_numpy, to_numpy
from tests.inference.models import onnx_reference, torch_reference
from tests.procs import Mesh

pytestmark = pytest.mark.slow


def item(model: str, x: np.ndarray, request_id: str) -> ipb.PredictBatchItem:
    request = ipb.PredictRequest(model=common.ModelRef(name=model), inputs=[from_numpy("", x)])
    return ipb.PredictBatchItem(request=request, metadata={REQUEST_ID_HEADER: request_id}, timeout_seconds=30)


async def test_batches_on_one_stream_are_each_answered_with_their_id(
    triton_mesh: Mesh, uploaded: dict[str, bytes]
) -> None:
    rows = np.random.default_rng(7).standard_normal((8, 3, 4)).astype(np.float32)
    # Rows of one model may reach Triton joined: onnxruntime gives each row the same values either
    # way, torch may not to the last bit, so the one TorchScript request stands alone.
    batches = {100 + i: [item("mlp-onnx", rows[i], f"stream-{i}")] for i in range(6)}
    batches[7] = [item("mlp-onnx", rows[6], "pair-a"), item("mlp-onnx", rows[7], "pair-b")]
    batches[8] = [item("no-such-model", rows[0], "unknown"), item("mlp-ts", rows[1], "beside-it")]

    async with grpc.aio.insecure_channel(triton_mesh.address("inference")) as channel:
        stub = ipb_grpc.InferenceServiceStub(channel)
        call = stub.PredictBatchStream(timeout=120)
        for request_id, items in batches.items():  # all sent before any answer is read
            await call.write(
                ipb.PredictBatchStreamRequest(id=request_id, batch=ipb.PredictBatchRequest(items=items))
            )
        await call.done_writing()
        answers = {message.id: message.batch.outcomes async for message in call}
        assert await call.code() == grpc.StatusCode.OK

    assert sorted(answers) == sorted(batches)

    def expected(model: str, x: np.ndarray) -> np.ndarray:
        return (
            onnx_reference(uploaded[model], x) if model == "mlp-onnx" else torch_reference(uploaded[model], x)
        )

    for request_id, items in batches.items():
        for sent, outcome in zip(items, answers[request_id], strict=True):
            rid = sent.metadata[REQUEST_ID_HEADER]
            if sent.request.model.name == "no-such-model":
                error = MeshError.from_call_error(outcome.error)
                assert isinstance(error, ModelNotFound) and "no-such-model" in error.message
                continue
            assert outcome.response.request_id == rid
            x = to_numpy(sent.request.inputs[0])
            np.testing.assert_array_equal(
                to_numpy(outcome.response.outputs[0]), expected(sent.request.model.name, x)
            )


async def test_a_stream_left_open_keeps_answering_until_the_client_half_closes(
    triton_mesh: Mesh, uploaded: dict[str, bytes]
) -> None:
    x = np.random.default_rng(8).standard_normal((1, 4)).astype(np.float32)
    want = onnx_reference(uploaded["mlp-onnx"], x)
    async with grpc.aio.insecure_channel(triton_mesh.address("inference")) as channel:
        call = ipb_grpc.InferenceServiceStub(channel).PredictBatchStream(timeout=120)
        for n in range(5):  # one after another on the same stream, pausing between them
            batch = ipb.PredictBatchRequest(items=[item("mlp-onnx", x, f"turn-{n}")])
            await call.write(ipb.PredictBatchStreamRequest(id=n, batch=batch))
            answer = await call.read()
            assert answer.id == n and answer.batch.outcomes[0].response.request_id == f"turn-{n}"
            np.testing.assert_array_equal(to_numpy(answer.batch.outcomes[0].response.outputs[0]), want)
            await asyncio.sleep(0.05)
        await call.done_writing()
        assert await call.read() == grpc.aio.EOF
        assert await call.code() == grpc.StatusCode.OK
