"""Prediction benchmark: p50/p99 latency and throughput, side by side, for direct Triton gRPC,
direct meshserve gRPC and REST through the gateway, sequential and at concurrency 32; then the
dynamic-batching gain (throughput with batching / without) on a compute-heavy model.

Starts its own mesh on free ports (one Triton worker). Run: ``.venv/bin/python bench/predict.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import httpx
import numpy as np
import tritonclient.grpc.aio as triton

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.inference.tensors import from_numpy
from tests.inference.models import onnx_bytes
from tests.procs import run_mesh

Call = Callable[[], Awaitable[object]]


async def measure(call: Call, requests: int, concurrency: int) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, requests/s) of ``requests`` calls at a concurrency."""
    latencies: list[float] = []
    queue = iter(range(requests))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            await call()
            latencies.append((time.perf_counter() - started) * 1000)

    for _ in range(10):  # warm-up
        await call()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return (
        ordered[len(ordered) // 2],
        ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        requests / elapsed,
    )


def upload(http: httpx.Client, name: str, data: bytes) -> None:
    """POST /v1/models."""
    reply = http.post(
        "/v1/models", data={"name": name, "format": "onnx"}, files={"file": (f"{name}.onnx", data)}
    )
    reply.raise_for_status()


async def main(requests: int) -> None:
    """Runs the benchmark and prints the tables."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        run_mesh(Path(tmp), {"MESHSERVE_INFERENCE_WORKERS": "1"}) as mesh,
    ):
        http = httpx.Client(base_url=mesh.base_url, timeout=120)
        upload(http, "bench-small", onnx_bytes())
        import torch

        heavy = torch.nn.Sequential(*[torch.nn.Linear(1024, 1024) for _ in range(8)]).eval()
        upload(http, "bench-heavy", onnx_bytes(heavy, features=1024))
        channel = grpc.aio.insecure_channel(mesh.address("inference"))
        stub = ipb_grpc.InferenceServiceStub(channel)
        x = np.random.default_rng(0).standard_normal((1, 4)).astype(np.float32)
        request = ipb.PredictRequest(model=common.ModelRef(name="bench-small"), inputs=[from_numpy("x", x)])
        await stub.Predict(request, timeout=120)
        states = {s.model.name: s for s in (await stub.ListModelStates(ipb.ListModelStatesRequest())).states}
        workers = {w.id: w for w in (await stub.ListWorkers(ipb.ListWorkersRequest())).workers}
        state = states["bench-small"]
        direct = triton.InferenceServerClient(workers[state.worker_ids[0]].grpc_address)
        item = triton.InferInput("x", [1, 4], "FP32")
        item.set_data_from_numpy(x)
        rest = httpx.AsyncClient(base_url=mesh.base_url, timeout=120, limits=httpx.Limits(max_connections=64))
        v2 = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": x.reshape(-1).tolist()}]}

        async def call_rest() -> None:
            (await rest.post("/v2/models/bench-small/infer", json=v2)).raise_for_status()

        paths: list[tuple[str, Call]] = [
            ("direct Triton gRPC", lambda: direct.infer(state.triton_name, [item])),
            ("meshserve gRPC", lambda: stub.Predict(request, timeout=60)),
            ("REST via gateway (/v2 infer)", call_rest),
        ]
        print(f"\nmodel bench-small (MLP 4-8-3), {requests} requests per cell, 1 Triton worker, CPU")
        print(
            f"{'path':<30}{'seq p50':>9}{'seq p99':>9}{'seq rps':>9}{'c32 p50':>9}{'c32 p99':>9}{'c32 rps':>9}"
        )
        results = {}
        for label, call in paths:
            seq = await measure(call, requests, 1)
            par = await measure(call, requests * 2, 32)
            results[label] = (seq, par)
            print(f"{label:<30}" + "".join(f"{v:>9.2f}" for v in (*seq, *par)))
        overhead = results["REST via gateway (/v2 infer)"][0][0] - results["direct Triton gRPC"][0][0]
        print(f"gateway p50 overhead over direct Triton (sequential): {overhead:.2f} ms (target <= 2 ms)")

        heavy_x = np.random.default_rng(1).standard_normal((1, 1024)).astype(np.float32)
        heavy_request = ipb.PredictRequest(
            model=common.ModelRef(name="bench-heavy"), inputs=[from_numpy("x", heavy_x)]
        )
        rates = {}
        for label, batching in (
            (
                "with batching",
                ipb.BatchingConfig(
                    max_batch_size=32, preferred_batch_sizes=[8, 16, 32], max_queue_delay_microseconds=2000
                ),
            ),
            ("without batching", ipb.BatchingConfig(max_batch_size=0)),
        ):
            await stub.LoadModel(
                ipb.LoadModelRequest(model=common.ModelRef(name="bench-heavy"), batching=batching),
                timeout=120,
            )
            rates[label] = await measure(lambda: stub.Predict(heavy_request, timeout=60), requests * 2, 32)
        print("\nmodel bench-heavy (8 x Linear 1024x1024), concurrency 32, meshserve gRPC")
        for label, (p50, p99, rps) in rates.items():
            print(f"{label:<30}p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  {rps:8.1f} req/s")
        gain = rates["with batching"][2] / rates["without batching"][2]
        print(f"dynamic batching gain: {gain:.2f}x (target >= 3x)")
        await direct.close()
        await rest.aclose()
        await channel.close()
        await asyncio.to_thread(http.close)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300, help="requests per sequential cell")
    asyncio.run(main(parser.parse_args().requests))
