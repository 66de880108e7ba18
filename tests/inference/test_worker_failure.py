"""Issue 3, "It must show" 4: ``kill -9`` of a Triton worker under a steady stream of predicts:
no request fails (the ones in flight on it are retried on another worker) and it is replaced."""

from __future__ import annotations

import asyncio
import os
import signal

import grpc
import numpy as np
import pytest

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.inference.tensors import from_numpy
from tests.procs import Mesh

pytestmark = pytest.mark.slow


async def test_kill_worker_under_load(triton_mesh: Mesh, uploaded: dict[str, bytes]) -> None:
    async with grpc.aio.insecure_channel(triton_mesh.address("inference")) as channel:
        stub = ipb_grpc.InferenceServiceStub(channel)
        load = await stub.LoadModel(
            ipb.LoadModelRequest(model=common.ModelRef(name="mlp-onnx"), replicas=2), timeout=120
        )
        assert len(load.state.worker_ids) == 2
        workers = {w.id: w for w in (await stub.ListWorkers(ipb.ListWorkersRequest())).workers}
        victim = workers[load.state.worker_ids[0]]
        request = ipb.PredictRequest(
            model=common.ModelRef(name="mlp-onnx"), inputs=[from_numpy("x", np.ones((1, 4), np.float32))]
        )
        served: dict[str, int] = {}
        failures: list[str] = []
        stop = asyncio.Event()
        reached = asyncio.Event()
        target = [50]

        async def client() -> None:
            while not stop.is_set():
                try:
                    reply = await stub.Predict(request, timeout=60)
                    served[reply.worker_id] = served.get(reply.worker_id, 0) + 1
                    if sum(served.values()) >= target[0]:
                        reached.set()
                except grpc.aio.AioRpcError as error:
                    failures.append(f"{error.code()}: {error.details()}")

        clients = [asyncio.create_task(client()) for _ in range(8)]
        await asyncio.wait_for(reached.wait(), 60)
        os.kill(victim.pid, signal.SIGKILL)
        reached.clear()
        target[0] = sum(served.values()) + 200
        await asyncio.wait_for(reached.wait(), 120)
        stop.set()
        await asyncio.gather(*clients)
        assert failures == []
        for _ in range(300):  # the replacement starts on fresh ports with a new pid
            listed = {w.id: w for w in (await stub.ListWorkers(ipb.ListWorkersRequest())).workers}
            if listed[victim.id].state == "ready" and listed[victim.id].pid != victim.pid:
                break
            await asyncio.sleep(0.1)
        replaced = listed[victim.id]
        assert (
            replaced.state == "ready"
            and replaced.pid != victim.pid
            and replaced.restarts == victim.restarts + 1
        )
        stats = await stub.GetStats(ipb.GetStatsRequest(model_name="mlp-onnx"))
        assert stats.models[0].requests >= 250
