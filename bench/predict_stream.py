"""Does the gateway's prediction stream pay? REST predictions through a gateway that sends them to
the inference service as messages of its ``PredictBatchStream`` calls, against a gateway that sends
them as calls of their own (``MESHSERVE_GATEWAY_PREDICT_STREAMS=0``), side by side in one run,
sequentially and at concurrency 32, with direct Triton gRPC as the reference.

Starts two meshes on free ports, one per setting, each with one Triton worker, and measures the
three paths in rounds whose order rotates, so the shared machine's slower spells fall on every path
alike. The table adds the CPU each hop spent per request.

Run: ``.venv/bin/python bench/predict_stream.py [--requests 2000] [--rounds 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import tritonclient.grpc.aio as triton

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.predict import Call, measure_sequential_and_c32, small_input, upload, warm_every_batch_size
from bench.processes import pid_listening_on
from bench.raw_http import RawHttp
from services.common.heap import freeze_startup_heap
from tests.inference.models import onnx_bytes
from tests.procs import RATE_LIMITS_OFF, Mesh, run_mesh

SETTINGS = {"stream": "4", "calls": "0"}
PATH = "/v2/models/bench-small/infer"


def processes_of(mesh: Mesh) -> dict[str, int]:
    """The mesh's gateway and inference service (Triton is the latter's child)."""
    return {
        "gateway": pid_listening_on(mesh.ports["gateway"]),
        "inference": pid_listening_on(mesh.ports["inference"]),
    }


async def main(requests: int, rounds: int) -> None:
    """Runs the paths and prints the table."""
    x, body = small_input()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        meshes: dict[str, Mesh] = {}
        for label, value in SETTINGS.items():
            env = {
                "MESHSERVE_INFERENCE_WORKERS": "1",
                "MESHSERVE_GATEWAY_PREDICT_STREAMS": value,
                **RATE_LIMITS_OFF,
            }
            (Path(tmp) / label).mkdir()
            meshes[label] = stack.enter_context(run_mesh(Path(tmp) / label, env))
        clients: list[RawHttp] = []
        paths: list[tuple[str, Call]] = []
        processes: dict[str, int] = {}
        for label, mesh in meshes.items():
            with httpx.Client(base_url=mesh.base_url, timeout=300) as http:
                upload(http, "bench-small", onnx_bytes())
            raw = RawHttp("127.0.0.1", mesh.ports["gateway"])
            clients.append(raw)
            await raw.post_json(PATH, body)  # loads the model
            paths.append((f"REST, gateway sends {label}", functools.partial(raw.post_json, PATH, body)))
            for hop, pid in processes_of(mesh).items():
                processes[f"{hop} ({label})"] = pid
        # Direct Triton: the worker of the first mesh, found through its inference service.
        triton_name, worker = await bench_small_worker(meshes["stream"])
        client = triton.InferenceServerClient(worker.grpc_address)
        await warm_every_batch_size(client, triton_name, 4, 32)
        item = triton.InferInput("x", [1, 4], "FP32")
        item.set_data_from_numpy(x)
        paths.insert(0, ("direct Triton gRPC", lambda: client.infer(triton_name, [item])))
        freeze_startup_heap()

        print(
            f"\nmodel bench-small (MLP 4-8-3), {requests} sequential requests per path in {rounds} rotating rounds,"
            f" {requests * 2} per c32 cell; two meshes, 1 Triton worker each, CPU"
        )
        sequential, concurrent, cpu_by_cell = await measure_sequential_and_c32(
            paths, requests, rounds, processes
        )
        print(
            f"{'path':<32}{'seq p50':>9}{'seq p99':>9}{'c32 p50':>9}{'c32 p99':>9}{'c32 rps':>9}{'of direct':>10}"
        )
        reference = concurrent["direct Triton gRPC"][2]
        for label, _ in paths:
            (p50, p99, _), (c50, c99, rps) = sequential[label], concurrent[label]
            print(
                f"{label:<32}{p50:>9.2f}{p99:>9.2f}{c50:>9.2f}{c99:>9.2f}{rps:>9.0f}{rps / reference:>10.0%}"
            )
        print("\nCPU ms per request (gateway / inference service; Triton is the inference service's child):")
        for title, table in cpu_by_cell.items():
            for label in SETTINGS:
                used = table[f"REST, gateway sends {label}"]
                print(
                    f"  {title:<11} gateway sends {label:<7} gateway {used[f'gateway ({label})']:.3f}"
                    f"  inference+Triton {used[f'inference ({label})']:.3f}"
                )
        stream, calls = (sequential[f"REST, gateway sends {k}"][0] for k in SETTINGS)
        stream_rps, calls_rps = (concurrent[f"REST, gateway sends {k}"][2] for k in SETTINGS)
        direct_p50 = sequential["direct Triton gRPC"][0]
        print(
            f"\np50 overhead over direct Triton: stream {stream - direct_p50:+.2f} ms, calls {calls - direct_p50:+.2f} ms;"
            f" c32 requests/s, stream / calls: {stream_rps / calls_rps:.2f}x"
        )
        await client.close()
        for raw in clients:
            await raw.close()


async def bench_small_worker(mesh: Mesh) -> tuple[str, Any]:
    """``bench-small``'s name in Triton and the worker holding it (``meshserve.v1.Worker``: its gRPC
    and HTTP addresses, its process id), as the inference service tells them."""
    import grpc

    from meshserve.v1 import inference_pb2 as ipb
    from meshserve.v1 import inference_pb2_grpc as ipb_grpc

    async with grpc.aio.insecure_channel(mesh.address("inference")) as channel:
        stub = ipb_grpc.InferenceServiceStub(channel)
        states = {s.model.name: s for s in (await stub.ListModelStates(ipb.ListModelStatesRequest())).states}
        workers = {w.id: w for w in (await stub.ListWorkers(ipb.ListWorkersRequest())).workers}
    state = states["bench-small"]
    return state.triton_name, workers[state.worker_ids[0]]


def run_in_rounds(main: Callable[[int, int], Coroutine[Any, Any, None]], doc: str) -> None:
    """Runs a benchmark's ``main(requests, rounds)`` with ``--requests`` and ``--rounds`` from the command line."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests per path")
    parser.add_argument("--rounds", type=int, default=10, help="rotating rounds the cells are measured in")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.rounds))


if __name__ == "__main__":
    run_in_rounds(main, __doc__)
