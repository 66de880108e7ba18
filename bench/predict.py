"""Prediction benchmark: p50/p99 latency and throughput, side by side in one run, for direct Triton
gRPC, direct meshserve gRPC and REST through the gateway, sequential and at concurrency 32; then
the dynamic-batching gain (throughput with batching / without) at concurrency 32, on direct Triton
and through meshserve, on a model whose compute dominates (a wide MLP).

Starts its own mesh on free ports (one Triton worker). Run: ``.venv/bin/python bench/predict.py``.
``--profile DIR`` records py-spy profiles (collapsed stacks) of the gateway and the inference service during an
extra REST cell at concurrency 32 (``py-spy`` from the dev extra; needs ptrace rights).

It ends with the data plane's targets, each PASS or FAIL: the gateway's p50 and p99 overhead over
direct Triton, its share of direct Triton's requests/s at concurrency 32, and the batching gain
through meshserve. CPU per request is shown per hop (gateway, inference service, Triton).

The sequential cells of all paths are measured in rounds (``--rounds``): each round runs a slice of
every path, in an order that rotates, so the load other work puts on a shared machine comes and goes
on every path alike and the paths compare like for like. Concurrency-32 cells run one after another.

Two REST clients are measured: ``httpx`` (what most Python callers use) and a minimal
keep-alive HTTP/1.1 client (like ``wrk``), whose own cost is close to nothing, so its numbers
are what the gateway adds. The gateway overhead line uses the latter, on KServe v2; documents 000
and 001 (nested-list bodies) are measured with it too.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import re
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

from bench.processes import cpu_seconds, pid_listening_on, profiled
from bench.raw_http import RawHttp
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.common.heap import freeze_startup_heap
from services.inference.tensors import from_numpy
from tests.inference.models import onnx_bytes
from tests.procs import RATE_LIMITS_OFF, run_mesh

Call = Callable[[], Awaitable[object]]
Cell = tuple[float, float, float]

#: The compute-heavy model: 2 x Linear(4096, 4096); ~6.5 ms for one row, ~1 ms per row in a batch of 32
#: on one core of the build machine, so batching, not the serving path, decides its throughput.
HEAVY_WIDTH, HEAVY_LAYERS = 4096, 2
BATCHED = ipb.BatchingConfig(max_batch_size=32, preferred_batch_sizes=[32], max_queue_delay_microseconds=5000)
UNBATCHED = ipb.BatchingConfig(max_batch_size=0)
#: Slices of each concurrency-32 cell, interleaved across the paths.
C32_ROUNDS = 4


async def at_concurrency(
    call: Call, count: int, concurrency: int, latencies: list[float] | None = None
) -> float:
    """Seconds that ``count`` calls took from ``concurrency`` callers; each one's ms into ``latencies``."""
    queue = iter(range(count))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            await call()
            if latencies is not None:
                latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


def cell_of(latencies: list[float], seconds: float) -> Cell:
    """(p50 ms, p99 ms, requests/s)."""
    ordered = sorted(latencies)
    return (
        ordered[len(ordered) // 2],
        ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        len(ordered) / seconds,
    )


async def measure(call: Call, requests: int, concurrency: int, warmup: int | None = None) -> Cell:
    """(p50 ms, p99 ms, requests/s) of ``requests`` calls at a concurrency, after ``warmup`` unmeasured
    calls (by default four per concurrent caller) made the same way.

    The warm-up runs at the cell's concurrency, so the model has already run batches of the sizes the
    cell forms: its first batch of each size is slow (onnxruntime plans every new input shape), and
    the direct path, measured first, once read 692 requests/s with a 504 ms p99 from that alone."""
    await at_concurrency(call, 4 * concurrency if warmup is None else warmup, concurrency)
    latencies: list[float] = []
    return cell_of(latencies, await at_concurrency(call, requests, concurrency, latencies))


async def warm_every_batch_size(
    direct: triton.InferenceServerClient, model: str, features: int, largest: int
) -> None:
    """One request of each batch size the dynamic batcher may form: onnxruntime plans each new input
    shape when it first sees it (about half a second here), which would otherwise land in a measured
    cell as a 500 ms p99."""
    for rows in range(1, largest + 1):
        item = triton.InferInput("x", [rows, features], "FP32")
        item.set_data_from_numpy(np.zeros((rows, features), np.float32))
        await direct.infer(model, [item])


async def measure_rounds(
    paths: list[tuple[str, Call]],
    requests: int,
    rounds: int,
    processes: dict[str, int],
    concurrency: int = 1,
    warmup: int = 10,
) -> tuple[dict[str, Cell], dict[str, dict[str, float]]]:
    """(p50 ms, p99 ms, requests/s) of every path at a concurrency and its CPU ms per request in each
    process: every path warmed with ``warmup`` calls per caller (see :func:`measure`), then
    ``requests`` per path in ``rounds`` slices, each round visiting the paths in a rotated order, so
    that a slower spell of the shared machine falls on every path alike."""
    latencies: dict[str, list[float]] = {label: [] for label, _ in paths}
    busy = dict.fromkeys(latencies, 0.0)
    cpu = {label: dict.fromkeys(processes, 0.0) for label in latencies}
    for _, call in paths:
        await at_concurrency(call, warmup * concurrency, concurrency)
    for turn in range(rounds):
        shift = turn % len(paths)
        for label, call in paths[shift:] + paths[:shift]:
            await call()  # the connection may have idled through the other paths' slices
            before = cpu_seconds(processes)
            busy[label] += await at_concurrency(
                call, max(1, requests // rounds), concurrency, latencies[label]
            )
            after = cpu_seconds(processes)
            for name in processes:
                cpu[label][name] += after[name] - before[name]
    cells = {label: cell_of(values, busy[label]) for label, values in latencies.items()}
    per_request = {
        label: {name: used * 1000 / len(latencies[label]) for name, used in spent.items()}
        for label, spent in cpu.items()
    }
    return cells, per_request


async def measure_sequential_and_c32(
    paths: list[tuple[str, Call]], requests: int, rounds: int, processes: dict[str, int]
) -> tuple[dict[str, Cell], dict[str, Cell], dict[str, dict[str, dict[str, float]]]]:
    """Every path's sequential cell (``requests`` calls) and concurrency-32 cell (twice as many),
    both in ``rounds`` rotating rounds: (sequential, c32, CPU per request by cell, path, process)."""
    sequential, cpu = await measure_rounds(paths, requests, rounds, processes)
    concurrent, cpu_c32 = await measure_rounds(paths, requests * 2, rounds, processes, 32, warmup=4)
    return sequential, concurrent, {"sequential": cpu, "c32": cpu_c32}


def small_input() -> tuple[np.ndarray, bytes]:
    """``bench-small``'s one-row input, and the same as a KServe v2 JSON body."""
    x = np.random.default_rng(0).standard_normal((1, 4)).astype(np.float32)
    body = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": x.reshape(-1).tolist()}]}
    return x, json.dumps(body).encode()


def upload(http: httpx.Client, name: str, data: bytes) -> None:
    """POST /v1/models."""
    reply = http.post(
        "/v1/models", data={"name": name, "format": "onnx"}, files={"file": (f"{name}.onnx", data)}
    )
    reply.raise_for_status()


def upload_heavy(http: httpx.Client) -> None:
    """Uploads the compute-heavy wide MLP as ``bench-heavy``."""
    import torch

    torch.manual_seed(0)
    heavy = torch.nn.Sequential(*[torch.nn.Linear(HEAVY_WIDTH, HEAVY_WIDTH) for _ in range(HEAVY_LAYERS)])
    upload(http, "bench-heavy", onnx_bytes(heavy.eval(), features=HEAVY_WIDTH))


def gateway_predictions(http: httpx.Client) -> tuple[float, float]:
    """Predictions the gateway has sent to the inference service, and in how many gRPC calls."""
    text = http.get("/metrics").text
    found = dict(re.findall(r"^meshserve_gateway_predict_batch_items_(sum|count) (\S+)$", text, re.M))
    return float(found.get("sum", 0)), float(found.get("count", 0))


def row(label: str, values: tuple[float, ...]) -> str:
    """One table row."""
    return f"{label:<34}" + "".join(f"{v:>9.2f}" for v in values)


async def main(requests: int, rounds: int, profile: Path | None, latency_only: bool) -> None:
    """Runs the benchmark and prints the tables."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        run_mesh(Path(tmp), {"MESHSERVE_INFERENCE_WORKERS": "1", **RATE_LIMITS_OFF}) as mesh,
    ):
        http = httpx.Client(base_url=mesh.base_url, timeout=300)
        upload(http, "bench-small", onnx_bytes())
        if not latency_only:
            upload_heavy(http)
        channel = grpc.aio.insecure_channel(mesh.address("inference"))
        stub = ipb_grpc.InferenceServiceStub(channel)
        x, v2_body = small_input()
        request = ipb.PredictRequest(model=common.ModelRef(name="bench-small"), inputs=[from_numpy("x", x)])
        await stub.Predict(request, timeout=120)
        states = {s.model.name: s for s in (await stub.ListModelStates(ipb.ListModelStatesRequest())).states}
        workers = {w.id: w for w in (await stub.ListWorkers(ipb.ListWorkersRequest())).workers}
        state = states["bench-small"]
        direct = triton.InferenceServerClient(workers[state.worker_ids[0]].grpc_address)
        await warm_every_batch_size(direct, state.triton_name, x.shape[1], state.batching.max_batch_size)
        item = triton.InferInput("x", [1, 4], "FP32")
        item.set_data_from_numpy(x)
        # Idle connections retire before uvicorn's 5 s keep-alive timeout, so no request races the server's close.
        rest = httpx.AsyncClient(
            base_url=mesh.base_url, timeout=120, limits=httpx.Limits(max_connections=64, keepalive_expiry=2.0)
        )
        raw = RawHttp("127.0.0.1", mesh.ports["gateway"])
        freeze_startup_heap()  # the client's own collections (torch, numpy) would stall every path's requests

        async def call_httpx() -> None:
            (await rest.post("/v2/models/bench-small/infer", content=v2_body)).raise_for_status()

        async def call_raw() -> None:
            await raw.post_json("/v2/models/bench-small/infer", v2_body)

        ace3_body = json.dumps({"inputs": x.tolist()}).encode()  # documents 000 and 001: nested lists
        pytorch_if_body = json.dumps({"model_name": "bench-small", "inputs": x.tolist()}).encode()
        paths: list[tuple[str, Call]] = [
            ("direct Triton gRPC", lambda: direct.infer(state.triton_name, [item])),
            ("meshserve gRPC", lambda: stub.Predict(request, timeout=60)),
            ("REST via gateway (keep-alive)", call_raw),
            ("REST via gateway (httpx client)", call_httpx),
            (
                "REST 000 /v1/models/{id}/predict",
                lambda: raw.post_json("/v1/models/bench-small/predict", ace3_body),
            ),
            ("REST 001 /predict", lambda: raw.post_json("/predict", pytorch_if_body)),
        ]
        pids = {
            "gateway": pid_listening_on(mesh.ports["gateway"]),
            "inference": pid_listening_on(mesh.ports["inference"]),
        }
        # Triton and its python-backend stub, as the inference service's children.
        processes = {**pids, "triton": workers[state.worker_ids[0]].pid}
        print(
            f"\nmodel bench-small (MLP 4-8-3), {requests} sequential requests per path in {rounds} rotating"
            f" rounds, {requests * 2} per c32 cell, 1 Triton worker, CPU"
        )
        print(
            f"{'path':<34}{'seq p50':>9}{'seq p99':>9}{'seq rps':>9}{'c32 p50':>9}{'c32 p99':>9}{'c32 rps':>9}"
        )
        sequential, cpu = await measure_rounds(paths, requests, rounds, processes)
        sent_before = gateway_predictions(http)
        concurrent, cpu_c32 = await measure_rounds(paths, requests * 2, C32_ROUNDS, processes, 32, warmup=4)
        sent, calls = (
            after - before for after, before in zip(gateway_predictions(http), sent_before, strict=True)
        )
        results: dict[str, tuple[Cell, Cell]] = {}
        for label, _ in paths:
            results[label] = (sequential[label], concurrent[label])
            print(row(label, (*sequential[label], *concurrent[label])))
        hops = ("gateway", "inference", "triton")
        for title, table in (("sequential", cpu), ("concurrency 32", cpu_c32)):
            print(f"\nCPU ms per request, {title} cell (inference: its own process, Triton apart):")
            print(f"{'path':<34}" + "".join(f"{k:>11}" for k in hops))
            for label, used in table.items():
                own = {**used, "inference": max(0.0, used["inference"] - used["triton"])}
                print(f"{label:<34}" + "".join(f"{own[k]:>11.3f}" for k in hops))
        print(
            f"\ngateway → inference in the c32 cell (both REST paths): {sent:.0f} predictions in {calls:.0f} gRPC calls"
            f" ({sent / max(calls, 1):.1f} per call; PredictBatch coalesces what arrives while calls are busy)\n"
        )
        triton_cells, gateway = results["direct Triton gRPC"], results["REST via gateway (keep-alive)"]
        for label, _ in paths[1:]:
            (p50, p99, _), (_, _, rps) = results[label]
            print(
                f"{label}: p50 {p50 - triton_cells[0][0]:+.2f} ms, p99 {p99 - triton_cells[0][1]:+.2f} ms over direct"
                f" Triton; c32 {rps / triton_cells[1][2]:.0%} of its requests/s"
            )
        # Triton's batcher at times sleeps with requests queued; a direct cell that did reads slow.
        stalled = f"; direct Triton stalled (c32 p99 {triton_cells[1][1]:.0f} ms), not a fair reference"
        stalled = stalled if triton_cells[1][1] > 5 * triton_cells[1][0] else ""
        checks = [
            (
                f"gateway (keep-alive) p50 overhead {gateway[0][0] - triton_cells[0][0]:+.2f} ms (<= 1 ms)",
                gateway[0][0] - triton_cells[0][0] <= 1.0,
            ),
            (
                f"gateway (keep-alive) p99 overhead {gateway[0][1] - triton_cells[0][1]:+.2f} ms (<= 3 ms)",
                gateway[0][1] - triton_cells[0][1] <= 3.0,
            ),
            (
                f"gateway (keep-alive) at c32: {gateway[1][2] / triton_cells[1][2]:.0%} of direct Triton's"
                f" requests/s (>= 50%){stalled}",
                gateway[1][2] / triton_cells[1][2] >= 0.5 and not stalled,
            ),
        ]
        if profile is not None:
            with profiled(profile, pids, "rest-c32"):
                await measure(call_raw, requests * 10, 32)

        if not latency_only:
            gain = await heavy_batching(stub, workers, requests, HEAVY_WIDTH)
            checks.append((f"dynamic batching gain through meshserve {gain:.2f}x (>= 3x)", gain >= 3.0))
        print()
        for line, met in checks:
            print(f"{'PASS' if met else 'FAIL'}: {line}")
        await direct.close()
        await rest.aclose()
        await raw.close()
        await channel.close()
        await asyncio.to_thread(http.close)


async def heavy_batching(
    stub: ipb_grpc.InferenceServiceStub, workers: dict[str, ipb.Worker], requests: int, width: int
) -> float:
    """Throughput at concurrency 32 with and without dynamic batching, direct and through meshserve;
    returns the gain through meshserve."""
    x = np.random.default_rng(1).standard_normal((1, width)).astype(np.float32)
    heavy_request = ipb.PredictRequest(model=common.ModelRef(name="bench-heavy"), inputs=[from_numpy("x", x)])
    item = triton.InferInput("x", [1, width], "FP32")
    item.set_data_from_numpy(x)
    cells: dict[tuple[str, str], Cell] = {}
    count = max(64, requests // 2)
    for mode, batching in (("batching", BATCHED), ("no batching", UNBATCHED)):
        reply = await stub.LoadModel(
            ipb.LoadModelRequest(model=common.ModelRef(name="bench-heavy"), batching=batching), timeout=300
        )
        address = workers[reply.state.worker_ids[0]].grpc_address
        async with triton.InferenceServerClient(address) as direct:
            tname = reply.state.triton_name
            cells[("direct Triton gRPC", mode)] = await measure(
                functools.partial(direct.infer, tname, [item]), count, 32, warmup=32
            )
        cells[("meshserve gRPC", mode)] = await measure(
            lambda: stub.Predict(heavy_request, timeout=120), count, 32, warmup=32
        )
    print(
        f"\nmodel bench-heavy ({HEAVY_LAYERS} x Linear {width}x{width}), concurrency 32, {count} requests per cell"
    )
    print(f"{'path':<34}{'mode':<14}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}")
    for (path, mode), (p50, p99, rps) in cells.items():
        print(f"{path:<34}{mode:<14}{p50:>9.2f}{p99:>9.2f}{rps:>9.1f}")
    gains = {path: cells[(path, "batching")][2] / cells[(path, "no batching")][2] for path, _ in cells}
    for path, gain in gains.items():
        print(f"dynamic batching gain, {path}: {gain:.2f}x")
    return gains["meshserve gRPC"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300, help="sequential requests per path")
    parser.add_argument(
        "--rounds", type=int, default=10, help="rotating rounds the sequential cells are cut into"
    )
    parser.add_argument("--profile", type=Path, default=None, help="write py-spy profiles into this folder")
    parser.add_argument("--latency-only", action="store_true", help="skip the batching-gain part")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds, args.profile, args.latency_only))
