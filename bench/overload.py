"""Overload: more load than a model may take, and what the callers see.

Starts its own mesh with the admission limits (the gateway's inference requests in flight and the
tensor model's) at ``--capacity``, by default one per core: a tensor prediction is CPU-bound on every
hop (gateway, inference service, Triton), so past about one in flight per core an admitted request
only waits for a core, and that wait is what the accepted p99 target forbids. A higher limit buys
throughput with latency (the README shows both). It then measures KServe predictions through the
gateway from one client (unloaded), then from ``--factor`` x capacity clients at once for
``--seconds``, and prints a table against issue 17's targets: refused requests come back in under
50 ms with 429 and ``Retry-After``, the p99 of accepted ones stays within 2x of its unloaded value,
and nothing times out or fails otherwise.

    python bench/overload.py [--capacity CORES] [--factor 4] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.procs import RATE_LIMITS_OFF, run_mesh

BODY = {"inputs": [{"name": "INPUT", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}
BODY_BYTES = json.dumps(BODY).encode()
JSON = {"Content-Type": "application/json"}
PATH = "/v2/models/example/infer"


@dataclass
class Run:
    """Latencies (ms) by outcome."""

    accepted: list[float] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)
    refused_without_retry_after: int = 0
    other: dict[str, int] = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank); 0 without values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def drive(base_url: str, clients: int, seconds: float) -> Run:
    """``clients`` loops posting predictions for ``seconds``.

    The load comes from aiohttp, not httpx: the client shares the two cores with the mesh, and
    httpx spends about four times aiohttp's CPU per request (0.57 against 0.14 ms), time the
    server's latency would be charged with (refused p99 68 ms with httpx, see the README).
    """
    run = Run()
    stop = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as http:

        async def client() -> None:
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    async with http.post(PATH, data=BODY_BYTES, headers=JSON) as reply:
                        await reply.read()
                except (aiohttp.ClientError, TimeoutError) as error:
                    run.other[type(error).__name__] = run.other.get(type(error).__name__, 0) + 1
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                if reply.status == 200:
                    run.accepted.append(elapsed)
                elif reply.status == 429:
                    run.refused.append(elapsed)
                    run.refused_without_retry_after += "Retry-After" not in reply.headers
                    await asyncio.sleep(float(reply.headers.get("Retry-After", "1")) / 20)  # a brief back-off
                else:
                    key = str(reply.status)
                    run.other[key] = run.other.get(key, 0) + 1

        await asyncio.gather(*(client() for _ in range(clients)))
    return run


def render(capacity: int, clients: int, unloaded: Run, loaded: Run) -> str:
    """The table."""
    base_p99 = percentile(unloaded.accepted, 99)
    p99 = percentile(loaded.accepted, 99)
    refused_p99 = percentile(loaded.refused, 99)
    rows = [
        (
            "unloaded p50 / p99 ms (1 client)",
            f"{percentile(unloaded.accepted, 50):.2f} / {base_p99:.2f}",
            "",
            "",
        ),
        (f"accepted under {clients} clients", f"{len(loaded.accepted)}", "", ""),
        (
            "accepted p50 / p99 ms",
            f"{percentile(loaded.accepted, 50):.2f} / {p99:.2f}",
            "p99 <= 2x unloaded",
            "PASS" if p99 <= 2 * base_p99 else "FAIL",
        ),
        (
            f"refused (429) under {clients} clients",
            f"{len(loaded.refused)}",
            "> 0",
            "PASS" if loaded.refused else "FAIL",
        ),
        (
            "refused p50 / p99 ms",
            f"{percentile(loaded.refused, 50):.2f} / {refused_p99:.2f}",
            "p99 < 50 ms",
            "PASS" if loaded.refused and refused_p99 < 50 else "FAIL",
        ),
        (
            "refused without Retry-After",
            str(loaded.refused_without_retry_after),
            "0",
            "PASS" if not loaded.refused_without_retry_after else "FAIL",
        ),
        (
            "timeouts, errors, other statuses",
            ", ".join(f"{k}: {v}" for k, v in sorted(loaded.other.items())) or "none",
            "none",
            "PASS" if not loaded.other else "FAIL",
        ),
    ]
    lines = [
        f"KServe predictions of `example` through the gateway; admission limit {capacity} in flight, "
        f"{clients} clients ({clients // capacity}x)",
        "",
        "| measure | value | target | |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
    ]
    return "\n".join(lines)


async def measure(base_url: str, capacity: int, factor: int, seconds: float) -> str:
    """Warms up, then the unloaded and the overloaded runs."""
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
        first = await http.post(PATH, json=BODY)  # loads the model
        assert first.status_code == 200, first.text
    await drive(base_url, 1, 2.0)  # warm connections and caches
    unloaded = await drive(base_url, 1, seconds / 2)
    loaded = await drive(base_url, capacity * factor, seconds)
    print(
        f"throughput: {len(unloaded.accepted) / (seconds / 2):.0f} req/s unloaded, "
        f"{len(loaded.accepted) / seconds:.0f} req/s accepted under load",
        flush=True,
    )
    return render(capacity, capacity * factor, unloaded, loaded)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--capacity",
        type=int,
        default=os.cpu_count() or 2,
        help="the admission limits (MESHSERVE_INFERENCE_MAX_IN_FLIGHT_PER_MODEL and "
        "MESHSERVE_GATEWAY_MAX_IN_FLIGHT_INFERENCE); default: the cores",
    )
    parser.add_argument("--factor", type=int, default=4, help="clients = capacity x factor")
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    env = {
        "MESHSERVE_INFERENCE_MAX_IN_FLIGHT_PER_MODEL": str(args.capacity),
        "MESHSERVE_GATEWAY_MAX_IN_FLIGHT_INFERENCE": str(args.capacity),
        **RATE_LIMITS_OFF,  # the admission limit is measured, not the rate limits
    }
    with tempfile.TemporaryDirectory() as tmp, run_mesh(Path(tmp), env) as mesh:
        table = asyncio.run(measure(mesh.base_url, args.capacity, args.factor, args.seconds))
    print(table)


if __name__ == "__main__":
    main()
