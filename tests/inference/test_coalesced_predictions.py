"""Issue 22: concurrent tensor predictions share the gateway's calls to the inference service
(``PredictBatch``), and each still gets exactly the answer, the error and the request id a call of
its own gives it."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import grpc
import httpx
import numpy as np
import pytest

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.common.context import REQUEST_ID_HEADER
from services.common.errors import MeshError, ModelNotFound
from services.inference.tensors import from_numpy, to_numpy
from tests.inference.models import onnx_reference, torch_reference
from tests.inference.test_predict_errors import check
from tests.procs import Mesh

pytestmark = pytest.mark.slow


def batch_items_sent(metrics: str) -> tuple[float, float]:
    """How many predictions the gateway has sent, and in how many calls."""
    found = {
        name: float(value)
        for name, value in re.findall(
            r"^meshserve_gateway_predict_batch_items_(sum|count) (\S+)$", metrics, re.M
        )
    }
    return found.get("sum", 0.0), found.get("count", 0.0)


async def burst(port: int, requests: list[tuple[str, dict[str, Any], str]]) -> list[httpx.Response]:
    """POSTs every ``(path, JSON body, request id)`` at once, each on a connection of its own, all
    written before any answer is read: the gateway has them all in hand while its first calls are in
    flight, as under load (a client that sends one after another may never get ahead of the calls)."""
    connections = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in requests))
    for (path, body, rid), (_, writer) in zip(requests, connections, strict=True):
        payload = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nX-Request-ID: {rid}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + payload)
    replies = []
    for reader, writer in connections:
        head, _, content = (await reader.read()).partition(b"\r\n\r\n")  # closed after the answer
        status, *lines = head.decode("latin-1").split("\r\n")
        headers = [
            (name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in lines)
        ]
        replies.append(httpx.Response(int(status.split()[1]), headers=headers, content=content))
        writer.close()
    return replies


async def test_concurrent_predictions_are_coalesced_and_each_gets_its_own_answer(
    triton_mesh: Mesh, uploaded: dict[str, bytes]
) -> None:
    rows = np.random.default_rng(22).standard_normal((48, 2, 4)).astype(np.float32)
    requests: list[tuple[str, dict[str, Any], str]] = []
    for i, x in enumerate(rows):
        rid = f"coalesced-{i}"
        if i % 8 == 3:  # an unknown model among them: its own 404, in its own surface's envelope
            requests.append(("/v1/models/no-such-model/predict", {"inputs": x.tolist()}, rid))
        elif i % 8 == 5:  # a wrong shape among them: its own 400
            requests.append(("/predict", {"model_name": "mlp-onnx", "inputs": x[:, :3].tolist()}, rid))
        elif i % 2:
            tensor = {"name": "x", "shape": [2, 4], "datatype": "FP32", "data": x.reshape(-1).tolist()}
            requests.append(("/v2/models/mlp-onnx/infer", {"inputs": [tensor]}, rid))
        else:
            requests.append(("/v1/models/mlp-onnx/predict", {"inputs": x.tolist()}, rid))

    def check_answer(i: int, reply: httpx.Response) -> None:
        if i % 8 == 3:
            check(reply, 404, "MODEL_NOT_FOUND")
            return
        if i % 8 == 5:
            check(reply, 400, "INVALID_INPUT")
            return
        assert reply.status_code == 200, reply.text
        assert reply.headers["X-Request-ID"] == f"coalesced-{i}"
        if i % 2:
            output = reply.json()["outputs"][0]
            got = np.reshape(np.asarray(output["data"], dtype=np.float32), output["shape"])
            assert reply.json()["id"] == f"coalesced-{i}"
        else:
            got = np.asarray(reply.json()["outputs"], dtype=np.float32)
            assert reply.json()["request_id"] == f"coalesced-{i}"
        np.testing.assert_array_equal(got, onnx_reference(uploaded["mlp-onnx"], rows[i]))  # JSON: exact

    async with httpx.AsyncClient(base_url=triton_mesh.base_url, timeout=120) as client:
        path, body, _ = requests[0]
        assert (await client.post(path, json=body)).status_code == 200  # the model is loaded first
        sent_before, calls_before = batch_items_sent((await client.get("/metrics")).text)
        for _ in range(3):
            for i, reply in enumerate(await burst(triton_mesh.ports["gateway"], requests)):
                check_answer(i, reply)
        sent, calls = batch_items_sent((await client.get("/metrics")).text)

    assert sent - sent_before >= 3 * len(rows)
    assert calls - calls_before < sent - sent_before, "no two predictions ever shared a call"


async def test_predict_batch_answers_each_item_in_its_own_context(
    triton_mesh: Mesh, uploaded: dict[str, bytes]
) -> None:
    x = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)

    def item(model: str, tensor: np.ndarray, rid: str) -> ipb.PredictBatchItem:
        request = ipb.PredictRequest(model=common.ModelRef(name=model), inputs=[from_numpy("", tensor)])
        return ipb.PredictBatchItem(request=request, metadata={REQUEST_ID_HEADER: rid}, timeout_seconds=30)

    items = [
        item("mlp-onnx", x, "first"),
        item("no-such-model", x, "second"),
        item("mlp-onnx", x[:, :2], "third"),
    ]
    async with grpc.aio.insecure_channel(triton_mesh.address("inference")) as channel:
        stub = ipb_grpc.InferenceServiceStub(channel)
        reply = await stub.PredictBatch(ipb.PredictBatchRequest(items=items), timeout=60)

    first, second, third = reply.outcomes
    assert first.response.request_id == "first"
    np.testing.assert_array_equal(
        to_numpy(first.response.outputs[0]), onnx_reference(uploaded["mlp-onnx"], x)
    )
    unknown = MeshError.from_call_error(second.error)
    assert (
        isinstance(unknown, ModelNotFound)
        and unknown.http_status == 404
        and "no-such-model" in unknown.message
    )
    assert second.error.code == grpc.StatusCode.NOT_FOUND.value[0]
    bad_shape = MeshError.from_call_error(third.error)
    assert bad_shape.code == "INVALID_INPUT" and bad_shape.http_status == 400


async def triton_statistics(stub: ipb_grpc.InferenceServiceStub, model: str) -> list[Any]:
    """Triton's own statistics of a model (``ModelStatistics`` messages), from every worker holding it."""
    import tritonclient.grpc.aio as triton

    states = (await stub.ListModelStates(ipb.ListModelStatesRequest(), timeout=30)).states
    state = next(s for s in states if s.model.name == model)
    workers = {w.id: w for w in (await stub.ListWorkers(ipb.ListWorkersRequest(), timeout=30)).workers}
    found: list[Any] = []
    for worker_id in state.worker_ids:
        client = triton.InferenceServerClient(workers[worker_id].grpc_address)
        try:
            found.extend((await client.get_inference_statistics(state.triton_name)).model_stats)
        finally:
            await client.close()
    return found


async def triton_requests(stub: ipb_grpc.InferenceServiceStub, model: str) -> int:
    """Requests Triton itself has counted for a model, over every worker holding it."""
    return sum(m.inference_stats.success.count for m in await triton_statistics(stub, model))


async def test_a_batch_of_one_model_reaches_triton_as_one_request_and_splits_back(
    triton_mesh: Mesh, uploaded: dict[str, bytes]
) -> None:
    rng = np.random.default_rng(9)
    rows = [rng.standard_normal((n, 4)).astype(np.float32) for n in (1, 2, 3)]
    lone = rng.standard_normal(4).astype(np.float32)  # no batch dimension: a batch of one, answered as such
    other = rng.standard_normal((2, 4)).astype(np.float32)

    def item(model: str, tensor: np.ndarray, rid: str) -> ipb.PredictBatchItem:
        request = ipb.PredictRequest(model=common.ModelRef(name=model), inputs=[from_numpy("", tensor)])
        return ipb.PredictBatchItem(request=request, metadata={REQUEST_ID_HEADER: rid}, timeout_seconds=30)

    items = [
        item("mlp-onnx", rows[0], "a"),
        item("mlp-ts", other, "ts"),
        item("mlp-onnx", rows[1], "b"),
        item("no-such-model", rows[0], "unknown"),
        item("mlp-onnx", lone, "lone"),
        item("mlp-onnx", rows[2][:, :3], "narrow"),
        item("mlp-onnx", rows[2], "c"),
    ]
    async with grpc.aio.insecure_channel(triton_mesh.address("inference")) as channel:
        stub = ipb_grpc.InferenceServiceStub(channel)
        await stub.Predict(items[0].request, timeout=60)  # loaded, so only the batch is counted below
        await stub.Predict(items[1].request, timeout=60)
        triton_before = await triton_requests(stub, "mlp-onnx")
        ours_before = (
            (await stub.GetStats(ipb.GetStatsRequest(model_name="mlp-onnx"), timeout=30)).models[0].requests
        )
        reply = await stub.PredictBatch(ipb.PredictBatchRequest(items=items), timeout=60)
        triton_after = await triton_requests(stub, "mlp-onnx")
        ours_after = (
            (await stub.GetStats(ipb.GetStatsRequest(model_name="mlp-onnx"), timeout=30)).models[0].requests
        )

    outcome = dict(zip(["a", "ts", "b", "unknown", "lone", "narrow", "c"], reply.outcomes, strict=True))
    onnx, ts = uploaded["mlp-onnx"], uploaded["mlp-ts"]
    # Joined rows give exactly what each request's rows give onnxruntime alone.
    for rid, x in (("a", rows[0]), ("b", rows[1]), ("c", rows[2])):
        got = to_numpy(outcome[rid].response.outputs[0])
        assert got.shape == (len(x), 3) and outcome[rid].response.request_id == rid
        np.testing.assert_array_equal(got, onnx_reference(onnx, x))
    lone_out = to_numpy(outcome["lone"].response.outputs[0])
    assert lone_out.shape == (3,)
    np.testing.assert_array_equal(lone_out, onnx_reference(onnx, lone[None])[0])
    np.testing.assert_array_equal(to_numpy(outcome["ts"].response.outputs[0]), torch_reference(ts, other))
    assert MeshError.from_call_error(outcome["unknown"].error).http_status == 404
    assert MeshError.from_call_error(outcome["narrow"].error).code == "INVALID_INPUT"
    # Four requests of the ONNX model, counted as four by the service, reached Triton as one.
    assert ours_after - ours_before == 4
    assert triton_after - triton_before == 1


async def test_an_item_that_fails_before_it_is_prepared_does_not_hold_the_others(
    triton_mesh: Mesh, uploaded: dict[str, bytes]
) -> None:
    x = np.random.default_rng(11).standard_normal((2, 4)).astype(np.float32)
    good = ipb.PredictRequest(model=common.ModelRef(name="mlp-onnx"), inputs=[from_numpy("", x)])
    broken = ipb.PredictRequest(model=common.ModelRef(name="mlp-onnx"), inputs=[from_numpy("", x)])
    broken.inputs[0].raw_contents = broken.inputs[0].raw_contents[:-4]  # values do not fill the shape
    items = [ipb.PredictBatchItem(request=r, timeout_seconds=30) for r in (good, broken, good)]
    async with grpc.aio.insecure_channel(triton_mesh.address("inference")) as channel:
        stub = ipb_grpc.InferenceServiceStub(channel)
        await stub.Predict(good, timeout=60)
        started = asyncio.get_running_loop().time()
        reply = await stub.PredictBatch(ipb.PredictBatchRequest(items=items), timeout=60)
        took = asyncio.get_running_loop().time() - started
    first, failed, last = reply.outcomes
    assert MeshError.from_call_error(failed.error).code == "INVALID_INPUT"
    want = onnx_reference(uploaded["mlp-onnx"], x)
    for outcome in (first, last):
        np.testing.assert_array_equal(to_numpy(outcome.response.outputs[0]), want)
    assert took < 5, f"the good items waited {took:.1f} s for the broken one"


async def test_concurrent_predict_calls_share_triton_requests_and_each_gets_its_own_answer(
    triton_mesh: Mesh, uploaded: dict[str, bytes]
) -> None:
    """``Predict`` calls of their own (a gRPC client's) that arrive while Triton requests of their
    model run are joined into the next one (services/inference/joined.py, ConcurrentPredictions).

    The model is a copy of mlp-onnx whose Triton batcher waits up to 20 ms for a batch to fill, so
    the first two requests are surely still running while the others arrive: with the usual 0.5 ms,
    a busy machine's client may send its calls more slowly than Triton answers them."""
    rng = np.random.default_rng(23)
    inputs = [rng.standard_normal((1 + i % 3, 4)).astype(np.float32) for i in range(40)]
    onnx = uploaded["mlp-onnx"]
    async with httpx.AsyncClient(base_url=triton_mesh.base_url, timeout=120) as client:
        reply = await client.post(
            "/v1/models", data={"name": "mlp-joined", "format": "onnx"}, files={"file": ("m.onnx", onnx)}
        )
    assert reply.status_code == 201, reply.text

    async def one(stub: ipb_grpc.InferenceServiceStub, i: int) -> str:
        x = inputs[i] if i % 10 != 7 else inputs[i][:, :3]  # a wrong shape among them: its own error
        request = ipb.PredictRequest(model=common.ModelRef(name="mlp-joined"), inputs=[from_numpy("", x)])
        try:
            reply = await stub.Predict(request, timeout=60, metadata=((REQUEST_ID_HEADER, f"call-{i}"),))
        except grpc.aio.AioRpcError as error:
            assert i % 10 == 7 and error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
            return "invalid"
        assert i % 10 != 7 and reply.request_id == f"call-{i}"
        np.testing.assert_array_equal(to_numpy(reply.outputs[0]), onnx_reference(onnx, x))
        return "ok"

    async with grpc.aio.insecure_channel(triton_mesh.address("inference")) as channel:
        stub = ipb_grpc.InferenceServiceStub(channel)
        batching = ipb.BatchingConfig(max_batch_size=64, max_queue_delay_microseconds=20_000)
        load = ipb.LoadModelRequest(model=common.ModelRef(name="mlp-joined"), batching=batching)
        await stub.LoadModel(load, timeout=300)
        await one(stub, 0)  # loaded, so only the burst is counted below
        triton_before = await triton_requests(stub, "mlp-joined")
        ours_before = (
            (await stub.GetStats(ipb.GetStatsRequest(model_name="mlp-joined"), timeout=30)).models[0].requests
        )
        outcomes = await asyncio.gather(*(one(stub, i) for i in range(len(inputs))))
        triton_after = await triton_requests(stub, "mlp-joined")
        ours_after = (
            (await stub.GetStats(ipb.GetStatsRequest(model_name="mlp-joined"), timeout=30)).models[0].requests
        )

    assert outcomes.count("invalid") == 4 and outcomes.count("ok") == 36
    assert ours_after - ours_before == 36  # each counted as a request of its own…
    assert triton_after - triton_before < 36  # …while Triton got fewer, joined requests
