"""Does a second gateway process raise tensor throughput? One gateway against two gateway replicas
sharing the load, side by side in one run, at concurrency 32, with direct Triton gRPC as the
reference, and where the machine's CPU goes for each.

Starts its own mesh on free ports: two gateway replicas (``MESHSERVE_REPLICAS=gateway=2``) sharing
their state through a Redis server of their own (``--redis``), one inference service, one Triton
worker. The "one gateway" path sends all 32 callers' requests to the first replica; the "two
gateways" path sends half to each, as a load balancer in front of them would. The cells of the
three paths are measured in rounds whose order rotates, so the shared machine's slower spells fall on
every path alike.

The table ends with the CPU each process spent per request, the benchmark's own client included,
and how many of the machine's cores that kept busy: when the paths together already use every
core, another process only divides the same CPU.

Run: ``.venv/bin/python bench/predict_replicas.py [--requests 6000] [--rounds 4]``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import tempfile
from pathlib import Path

import grpc
import httpx
import tritonclient.grpc.aio as triton

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.predict import Call, measure_rounds, small_input, upload, warm_every_batch_size
from bench.processes import THIS_PROCESS, pid_listening_on
from bench.raw_http import RawHttp
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.common.heap import freeze_startup_heap
from services.inference.tensors import from_numpy
from tests.inference.models import onnx_bytes
from tests.procs import RATE_LIMITS_OFF, free_port, run_mesh

CONCURRENCY = 32


async def main(requests: int, rounds: int) -> None:
    """Runs the three paths and prints the table."""
    env = {
        "MESHSERVE_INFERENCE_WORKERS": "1",
        "MESHSERVE_REPLICAS": "gateway=2",
        "MESHSERVE_REDIS": "1",
        "MESHSERVE_REDIS_PORT": str(free_port()),
        **RATE_LIMITS_OFF,
    }
    with tempfile.TemporaryDirectory() as tmp, run_mesh(Path(tmp), env) as mesh:
        http = httpx.Client(base_url=mesh.base_url, timeout=300)
        upload(http, "bench-small", onnx_bytes())
        channel = grpc.aio.insecure_channel(mesh.address("inference"))
        stub = ipb_grpc.InferenceServiceStub(channel)
        x, body = small_input()
        request = ipb.PredictRequest(model=common.ModelRef(name="bench-small"), inputs=[from_numpy("x", x)])
        await stub.Predict(request, timeout=120)
        states = (await stub.ListModelStates(ipb.ListModelStatesRequest())).states
        state = next(s for s in states if s.model.name == "bench-small")
        workers = (await stub.ListWorkers(ipb.ListWorkersRequest())).workers
        worker = next(w for w in workers if w.id == state.worker_ids[0])
        direct = triton.InferenceServerClient(worker.grpc_address)
        await warm_every_batch_size(direct, state.triton_name, x.shape[1], state.batching.max_batch_size)
        item = triton.InferInput("x", [1, 4], "FP32")
        item.set_data_from_numpy(x)
        first, second = mesh.ports["gateway"], mesh.ports["gateway"] + 1
        freeze_startup_heap()  # the client's own collections (torch, numpy) would stall every path's requests
        alone = RawHttp("127.0.0.1", first)
        shared = itertools.cycle([RawHttp("127.0.0.1", first), RawHttp("127.0.0.1", second)])

        async def one_gateway() -> None:
            await alone.post_json("/v2/models/bench-small/infer", body)

        async def two_gateways() -> None:
            await next(shared).post_json("/v2/models/bench-small/infer", body)

        paths: list[tuple[str, Call]] = [
            ("direct Triton gRPC", lambda: direct.infer(state.triton_name, [item])),
            ("REST, one gateway", one_gateway),
            ("REST, two gateways", two_gateways),
        ]
        processes = {
            "client": THIS_PROCESS,
            "gateway 1": pid_listening_on(first),
            "gateway 2": pid_listening_on(second),
            "inference": pid_listening_on(mesh.ports["inference"]),
            "triton": worker.pid,
        }
        cells, cpu = await measure_rounds(paths, requests, rounds, processes, CONCURRENCY, warmup=4)
        print(
            f"\nmodel bench-small, concurrency {CONCURRENCY}, {requests} requests per path in {rounds} rounds"
        )
        print(f"{'path':<22}{'p50 ms':>8}{'p99 ms':>8}{'req/s':>8}{'of direct':>10}", end="")
        print("".join(f"{name:>11}" for name in processes) + f"{'cores busy':>12}")
        for label, (p50, p99, rps) in cells.items():
            own = {**cpu[label], "inference": max(0.0, cpu[label]["inference"] - cpu[label]["triton"])}
            busy = sum(own.values()) * rps / 1000
            print(f"{label:<22}{p50:>8.2f}{p99:>8.2f}{rps:>8.0f}{rps / cells[paths[0][0]][2]:>10.0%}", end="")
            print("".join(f"{own[name]:>11.3f}" for name in processes) + f"{busy:>12.2f}")
        print(f"\n(CPU ms per request in each process; the machine has {os.cpu_count()} cores)")
        await direct.close()
        for client in (alone, *(next(shared) for _ in range(2))):
            await client.close()
        await channel.close()
        await asyncio.to_thread(http.close)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=6000, help="requests per path at concurrency 32")
    parser.add_argument("--rounds", type=int, default=4, help="rotating rounds the requests are split into")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
