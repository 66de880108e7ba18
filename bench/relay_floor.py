"""How close can any REST → gRPC → Triton relay in Python come to direct Triton on this machine?
The floor under ``bench/predict.py``'s targets, measured beside meshserve in one run.

Five paths to the same Triton model (``bench-small``), in rotating rounds, sequentially and from 32
concurrent callers, with the same keep-alive HTTP client (``bench/raw_http.py``) on every HTTP path:

- direct Triton gRPC (the reference of ``bench/predict.py``'s targets) and direct Triton HTTP;
- **one bare HTTP process**: uvicorn answering a fixed response, no framework, nothing behind it;
- **the relay floor**: that process relaying each body as is over a gRPC stream to a second process
  that posts it to Triton as is (``bench/floor_servers.py``): the mesh's two hops with nothing done
  at either;
- meshserve's gateway (KServe v2 REST), with its inference service.

It ends with each path's share of direct Triton's requests/s at concurrency 32 and its p50 overhead,
beside the targets of ``bench/predict.py`` (≤ 1 ms, ≥ 50%): a target that the relay floor misses
cannot be met by any implementation of the two hops in Python on this machine.

Run: ``.venv/bin/python bench/relay_floor.py [--requests 2000] [--rounds 10]``.
"""

from __future__ import annotations

import contextlib
import functools
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import tritonclient.grpc.aio as triton

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.predict import Call, measure_sequential_and_c32, small_input, upload, warm_every_batch_size
from bench.predict_stream import bench_small_worker, run_in_rounds
from bench.processes import THIS_PROCESS, pid_listening_on
from bench.raw_http import RawHttp
from services.common.heap import freeze_startup_heap
from services.launcher.backing import port_open
from tests.inference.models import onnx_bytes
from tests.procs import RATE_LIMITS_OFF, free_port, run_mesh

REFERENCE = "direct Triton gRPC"


@contextlib.contextmanager
def floor_processes(triton_http_port: int, model: str) -> Iterator[tuple[int, dict[str, int]]]:
    """Starts the relay and the bare gateway; yields the gateway's port and both processes' ids."""
    relay_port, gateway_port = free_port(), free_port()
    script = str(Path(__file__).with_name("floor_servers.py"))
    started = [
        subprocess.Popen([sys.executable, script, "relay", str(relay_port), str(triton_http_port), model]),
        subprocess.Popen([sys.executable, script, "gateway", str(gateway_port), str(relay_port)]),
    ]
    try:
        deadline = time.monotonic() + 30
        while not (port_open("127.0.0.1", relay_port) and port_open("127.0.0.1", gateway_port)):
            if time.monotonic() > deadline:
                raise RuntimeError("the floor's processes did not start")
            time.sleep(0.1)
        yield gateway_port, {"floor relay": started[0].pid, "floor gateway": started[1].pid}
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(10)


async def main(requests: int, rounds: int) -> None:
    """Runs the paths and prints the table."""
    x, body = small_input()
    env = {"MESHSERVE_INFERENCE_WORKERS": "1", **RATE_LIMITS_OFF}
    with tempfile.TemporaryDirectory() as tmp, run_mesh(Path(tmp), env) as mesh:
        with httpx.Client(base_url=mesh.base_url, timeout=300) as http:
            upload(http, "bench-small", onnx_bytes())
        mesh_rest = RawHttp("127.0.0.1", mesh.ports["gateway"])
        await mesh_rest.post_json("/v2/models/bench-small/infer", body)  # loads the model
        triton_name, worker = await bench_small_worker(mesh)
        http_port, triton_pid = int(worker.http_address.rsplit(":", 1)[1]), worker.pid
        direct = triton.InferenceServerClient(worker.grpc_address)
        await warm_every_batch_size(direct, triton_name, 4, 32)
        item = triton.InferInput("x", [1, 4], "FP32")
        item.set_data_from_numpy(x)
        with floor_processes(http_port, triton_name) as (floor_port, floor_pids):
            direct_http = RawHttp("127.0.0.1", http_port)
            floor = RawHttp("127.0.0.1", floor_port)
            await floor.post_json("/relay", body)
            paths: list[tuple[str, Call]] = [
                (REFERENCE, lambda: direct.infer(triton_name, [item])),
                (
                    "direct Triton HTTP",
                    functools.partial(direct_http.post_json, f"/v2/models/{triton_name}/infer", body),
                ),
                ("one bare HTTP process", functools.partial(floor.post_json, "/bare", body)),
                ("relay floor (2 hops)", functools.partial(floor.post_json, "/relay", body)),
                (
                    "meshserve gateway",
                    functools.partial(mesh_rest.post_json, "/v2/models/bench-small/infer", body),
                ),
            ]
            processes = {
                "client": THIS_PROCESS,
                **floor_pids,
                "mesh gateway": pid_listening_on(mesh.ports["gateway"]),
                "mesh inference": pid_listening_on(mesh.ports["inference"]),
                "Triton": triton_pid,
            }
            freeze_startup_heap()
            print(
                f"\nmodel bench-small (MLP 4-8-3), {requests} sequential requests per path and {requests * 2}"
                f" per c32 cell, in {rounds} rotating rounds; one Triton worker, CPU only"
            )
            sequential, concurrent, cpu = await measure_sequential_and_c32(paths, requests, rounds, processes)
            report(paths, sequential, concurrent, cpu)
            for client in (floor, direct_http, mesh_rest):
                await client.close()
        await direct.close()


def report(
    paths: list[tuple[str, Call]],
    sequential: dict[str, tuple[float, float, float]],
    concurrent: dict[str, tuple[float, float, float]],
    cpu: dict[str, dict[str, dict[str, float]]],
) -> None:
    """The table, each path's CPU per request at concurrency 32, and the targets' floor."""
    direct_p50, reference = sequential[REFERENCE][0], concurrent[REFERENCE][2]
    print(
        f"{'path':<24}{'seq p50':>9}{'seq p99':>9}{'p50 over':>10}{'c32 p50':>9}{'c32 p99':>9}"
        f"{'c32 rps':>9}{'of direct':>10}"
    )
    for label, _ in paths:
        (p50, p99, _), (c50, c99, rps) = sequential[label], concurrent[label]
        print(
            f"{label:<24}{p50:>9.2f}{p99:>9.2f}{p50 - direct_p50:>+10.2f}{c50:>9.2f}{c99:>9.2f}"
            f"{rps:>9.0f}{rps / reference:>10.0%}"
        )
    hops = ("client", "floor gateway", "floor relay", "mesh gateway", "mesh inference", "Triton")
    for cell, spent in cpu.items():
        print(f"\nCPU ms per request, {cell} (the inference service's without its Triton child):")
        print(f"{'path':<24}" + "".join(f"{hop:>16}" for hop in hops))
        for label, _ in paths:
            used = {**spent[label], "mesh inference": spent[label]["mesh inference"] - spent[label]["Triton"]}
            print(f"{label:<24}" + "".join(f"{max(0.0, used[hop]):>16.3f}" for hop in hops))
    floor_p50 = sequential["relay floor (2 hops)"][0] - direct_p50
    floor_share = concurrent["relay floor (2 hops)"][2] / reference
    mesh_share = concurrent["meshserve gateway"][2] / reference
    print("\nbench/predict.py's targets against the floor (what two hops that do nothing reach here, now):")
    print(
        f"  p50 overhead <= 1 ms: the relay floor adds {floor_p50:+.2f} ms, meshserve"
        f" {sequential['meshserve gateway'][0] - direct_p50:+.2f} ms"
        f" ({'within the floor' if floor_p50 <= 1 else 'the target is under the floor'})"
    )
    print(
        f"  c32 >= 50% of direct Triton: the relay floor serves {floor_share:.0%}, meshserve {mesh_share:.0%}"
        f" ({'within the floor' if floor_share >= 0.5 else 'the target is above the floor'})"
    )


if __name__ == "__main__":
    run_in_rounds(main, __doc__)
