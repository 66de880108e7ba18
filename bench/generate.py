"""Text generation benchmark: time to first token, inter-token latency and aggregate tokens/s at
1, 4 and 16 concurrent streams, through the gateway (OpenAI SSE) and directly on the Triton worker.

    python -m bench.generate                 # starts a mesh on free ports, prints one table
    python -m bench.generate --url http://127.0.0.1:8000 --inference 127.0.0.1:50053

The gateway's share of time to first token is measured apart from the table: single requests
alternating worker, gateway, worker, … (``--pairs``), so load that drifts during the run hits both
paths alike; the table's rows run one path after the other and hold few single-stream samples.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
from tritonclient.grpc.aio import InferenceServerClient

from meshserve.v1 import inference_pb2 as pb
from meshserve.v1 import inference_pb2_grpc as pb_grpc
from services.inference.llm.client import stream_events
from services.inference.llm.requests import build_job

MODEL = "smollm2-135m-instruct"
TRITON_MODEL = "llm--" + MODEL
PROMPT = "Write a short story about a lighthouse keeper."


@dataclass
class Run:
    """Token arrival times of one stream (seconds after its request was sent)."""

    arrivals: list[float]
    tokens: int


@dataclass
class Row:
    """One line of the table."""

    path: str
    streams: int
    ttft_p50: float
    ttft_p99: float
    itl_mean: float
    itl_p99: float
    tokens_per_second: float


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


async def via_gateway(client: httpx.AsyncClient, url: str, max_tokens: int) -> Run:
    """One streamed chat completion through the gateway."""
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    started = time.perf_counter()
    arrivals: list[float] = []
    tokens = 0
    async with client.stream("POST", f"{url}/v1/chat/completions", json=body) as reply:
        reply.raise_for_status()
        async for line in reply.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            elif chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                arrivals.append(time.perf_counter() - started)
    return Run(arrivals, tokens)


async def via_worker(client: InferenceServerClient, max_tokens: int) -> Run:
    """The same generation sent straight to the Triton worker's decoupled model."""
    job = build_job(
        model=MODEL,
        prompt="",
        messages=[("user", PROMPT)],
        sampling={"max_tokens": max_tokens, "temperature": 0.0},
        default_max_tokens=max_tokens,
        max_prompt_chars=1 << 20,
    )
    started = time.perf_counter()
    arrivals: list[float] = []
    tokens = 0
    async for event in stream_events(client, TRITON_MODEL, job.body()):
        if event.get("text"):
            arrivals.append(time.perf_counter() - started)
        if "usage" in event:
            tokens = event["usage"]["completion_tokens"]
    return Run(arrivals, tokens)


async def measure(path: str, streams: int, one: Callable[[], Awaitable[Run]], rounds: int) -> Row:
    """Runs ``streams`` generations at once, ``rounds`` times (more samples for the percentiles)."""
    runs: list[Run] = []
    wall = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        runs += await asyncio.gather(*(one() for _ in range(streams)))
        wall += time.perf_counter() - started
    ttfts = [r.arrivals[0] for r in runs if r.arrivals]
    gaps = [b - a for r in runs for a, b in zip(r.arrivals, r.arrivals[1:], strict=False)]
    return Row(
        path,
        streams,
        percentile(ttfts, 50) * 1000,
        percentile(ttfts, 99) * 1000,
        statistics.fmean(gaps) * 1000 if gaps else 0.0,
        percentile(gaps, 99) * 1000 if gaps else 0.0,
        sum(r.tokens for r in runs) / wall,
    )


@dataclass
class Overhead:
    """Single-stream time to first token on both paths, from alternating requests."""

    worker: list[float]
    gateway: list[float]

    def line(self) -> str:
        """One line: both medians and what the gateway adds (also as the median paired difference)."""
        worker, gateway = statistics.median(self.worker), statistics.median(self.gateway)
        paired = statistics.median(g - w for w, g in zip(self.worker, self.gateway, strict=True))
        return (
            f"TTFT, one stream, {len(self.worker)} alternating pairs: worker p50 {worker * 1000:.1f} ms, "
            f"gateway p50 {gateway * 1000:.1f} ms; the gateway adds {(gateway - worker) * 1000:+.1f} ms "
            f"({(gateway / worker - 1) * 100:+.1f}%), median paired difference {paired * 1000:+.1f} ms "
            f"({paired / worker * 100:+.1f}%); target <= +5%"
        )


async def overhead(http: httpx.AsyncClient, url: str, triton: InferenceServerClient, pairs: int) -> Overhead:
    """``pairs`` single generations on each path, alternating, with a short pause between."""
    result = Overhead([], [])
    for _ in range(pairs):
        worker = await via_worker(triton, 2)
        await asyncio.sleep(0.05)
        gateway = await via_gateway(http, url, 2)
        await asyncio.sleep(0.05)
        if worker.arrivals and gateway.arrivals:
            result.worker.append(worker.arrivals[0])
            result.gateway.append(gateway.arrivals[0])
    return result


async def bench(
    url: str, inference: str, max_tokens: int, levels: list[int], rounds: int, pairs: int = 0
) -> tuple[list[Row], Overhead | None]:
    """Every path at every concurrency, after a warm-up; then the alternating TTFT pairs."""
    rows = []
    gap = None
    async with httpx.AsyncClient(timeout=600) as http:
        await via_gateway(http, url, 4)  # places and loads the model
        async with grpc.aio.insecure_channel(inference) as channel:
            workers = await pb_grpc.InferenceServiceStub(channel).ListWorkers(
                pb.ListWorkersRequest(), timeout=10
            )
        address = next(w.grpc_address for w in workers.workers if TRITON_MODEL in w.models)
        triton = InferenceServerClient(address)
        try:
            for streams in levels:
                rows.append(await measure("worker", streams, lambda: via_worker(triton, max_tokens), rounds))
                rows.append(
                    await measure("gateway", streams, lambda: via_gateway(http, url, max_tokens), rounds)
                )
            if pairs:
                gap = await overhead(http, url, triton, pairs)
        finally:
            await triton.close()
    return rows, gap


def table(rows: list[Row], max_tokens: int) -> str:
    """The results as one markdown table."""
    lines = [
        f"max_tokens={max_tokens}, greedy, prompt={PROMPT!r}; worker and gateway rows alternate",
        "| path | streams | TTFT p50 ms | TTFT p99 ms | ITL mean ms | ITL p99 ms | aggregate tokens/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.path} | {r.streams} | {r.ttft_p50:.0f} | {r.ttft_p99:.0f} | {r.itl_mean:.1f} | "
            f"{r.itl_p99:.1f} | {r.tokens_per_second:.1f} |"
        )
    single = {r.path: r.tokens_per_second for r in rows if r.streams == 1}
    top = max(r.streams for r in rows)
    for path, base in single.items():
        best = next(r.tokens_per_second for r in rows if r.path == path and r.streams == top)
        lines.append(f"{path}: {top} streams give {best / base:.2f}x the tokens/s of one stream")
    return "\n".join(lines)


def main() -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="gateway URL of a running mesh (else one is started)")
    parser.add_argument("--inference", help="inference gRPC address of that mesh")
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--streams", default="1,4,16")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions of each concurrency level")
    parser.add_argument(
        "--pairs", type=int, default=20, help="alternating single requests for the gateway's TTFT share"
    )
    args = parser.parse_args()
    levels = [int(s) for s in args.streams.split(",")]
    with ExitStack() as stack:
        if args.url:
            url, inference = args.url, args.inference
        else:
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from tests.procs import run_mesh

            directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            mesh = stack.enter_context(run_mesh(directory, preload_llm=True))
            url, inference = mesh.base_url, mesh.address("inference")
        rows, gap = asyncio.run(bench(url, inference, args.max_tokens, levels, args.rounds, args.pairs))
    print(table(rows, args.max_tokens))
    if gap is not None:
        print(gap.line())


if __name__ == "__main__":
    main()
