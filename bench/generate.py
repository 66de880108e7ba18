"""Text generation benchmark: time to first token, inter-token latency and aggregate tokens/s at
1, 4 and 16 concurrent streams, side by side with llama.cpp in this process, on the same GGUF.

    python -m bench.generate                 # starts a mesh on free ports, prints one table
    python -m bench.generate --url http://127.0.0.1:8000 --inference 127.0.0.1:50053

Paths, at each concurrency, in one run, their rounds interleaved in rotating order (reference,
worker, gateway; worker, gateway, reference; …), so that the machine's slow spells fall on all of
them alike:
- ``llama.cpp``: the reference, in this process with the settings meshserve's engine uses (flash
  attention, one KV stream per sequence, the same threads): its chat API for one stream, and its
  low-level batched decode (one ``llama_decode`` per step for every sequence) for several;
- ``worker``: meshserve's decoupled model, straight to the Triton worker over KServe gRPC;
- ``gateway``: an OpenAI streamed chat completion through the whole mesh.

Each row shows its ratio to the reference at the same concurrency, and the run ends with the
engine targets (pass or fail). The table's rounds each start on an awake engine; the first token
after an idle pause is measured apart: single requests alternating llama.cpp, worker, gateway, …,
each 50 ms after the one before (``--pairs``), with the gateway's share. Then what two OpenAI
features cost (``--features``): one request with ``n=4`` against four separate requests, and
structured decoding (a JSON Schema) against free text, per token.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import grpc
from tritonclient.grpc.aio import InferenceServerClient

from bench.generation_rounds import MIN_TTFT_SAMPLES, Overhead, RoundOf, concurrently, measure, overhead
from bench.generation_runs import MODEL, PROMPT, REFERENCE, THREADS, TRITON_MODEL, Row, Run
from bench.llama_reference import Reference
from meshserve.v1 import inference_pb2 as pb
from meshserve.v1 import inference_pb2_grpc as pb_grpc
from services.inference.llm.client import stream_events
from services.inference.llm.requests import GenerationRequest, SamplingRequest, build_job
from services.inference.plugins.base import Message


async def via_gateway(client: aiohttp.ClientSession, url: str, max_tokens: int) -> Run:
    """One streamed chat completion through the gateway.

    The client is aiohttp, not httpx: it shares the two cores with the mesh and the engine, and
    httpx spends about 0.7 ms more per streamed request (1.24 against 0.50 ms to the first event
    from a bare uvicorn on this machine), which this table would count as the gateway's."""
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
    async with client.post(f"{url}/v1/chat/completions", json=body) as reply:
        reply.raise_for_status()
        async for raw in reply.content:
            if not raw.startswith(b"data: {"):
                continue
            chunk = json.loads(raw[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            elif chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                arrivals.append(time.perf_counter() - started)
    return Run(arrivals, tokens)


async def via_worker(client: InferenceServerClient, max_tokens: int) -> Run:
    """The same generation sent straight to the Triton worker's decoupled model."""
    job = build_job(
        GenerationRequest(
            MODEL,
            messages=(Message("user", PROMPT),),
            sampling=SamplingRequest(max_tokens=max_tokens, temperature=0.0),
        ),
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


JSON_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 60},
        "characters": {"type": "array", "items": {"type": "string", "maxLength": 30}, "maxItems": 4},
        "story": {"type": "string"},
    },
    "required": ["title", "characters", "story"],
}


@dataclass
class Features:
    """What ``n`` and structured decoding cost, from the same run."""

    #: Wall-clock seconds: one request with n=4, four requests at once, four one after another.
    n4: float
    separate_concurrent: float
    separate_sequential: float
    #: Mean inter-token latency (ms) of a streamed completion: free text, then a JSON Schema.
    itl_free: float
    itl_json: float

    def lines(self) -> list[str]:
        """The comparison, as printed after the table."""
        return [
            f"n=4 in one request: {self.n4:.2f} s; 4 separate requests at once {self.separate_concurrent:.2f} s "
            f"({self.n4 / self.separate_concurrent:.2f}x), one after another {self.separate_sequential:.2f} s "
            f"({self.n4 / self.separate_sequential:.2f}x)",
            f"structured decoding (JSON Schema): {self.itl_json:.2f} ms per token against {self.itl_free:.2f} ms "
            f"for free text ({self.itl_json - self.itl_free:+.2f} ms per token)",
        ]


async def completion(client: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    """One non-streamed chat completion."""
    request = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "temperature": 0, **body}
    async with client.post(f"{url}/v1/chat/completions", json=request) as reply:
        reply.raise_for_status()
        return dict(await reply.json())


async def streamed_itl(client: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> list[float]:
    """Gaps (ms) between the content chunks of one streamed chat completion."""
    request = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "temperature": 0, **body}
    arrivals = []
    async with client.post(f"{url}/v1/chat/completions", json={**request, "stream": True}) as reply:
        reply.raise_for_status()
        async for line in reply.content:
            if not line.startswith(b"data: {"):
                continue
            choices = json.loads(line[6:])["choices"]
            if choices and choices[0]["delta"].get("content"):
                arrivals.append(time.perf_counter())
    return [(b - a) * 1000 for a, b in itertools.pairwise(arrivals)]


async def features(client: aiohttp.ClientSession, url: str, max_tokens: int, rounds: int) -> Features:
    """``n=4`` against 4 separate requests, and structured against free decoding (best of ``rounds``)."""
    fixed = {"max_tokens": max_tokens, "stop": None}
    n4, concurrent, sequential = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        await completion(client, url, {**fixed, "n": 4})
        n4.append(time.perf_counter() - started)
        started = time.perf_counter()
        await asyncio.gather(*(completion(client, url, fixed) for _ in range(4)))
        concurrent.append(time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(4):
            await completion(client, url, fixed)
        sequential.append(time.perf_counter() - started)
    free: list[float] = []
    structured: list[float] = []
    schema = {"type": "json_schema", "json_schema": {"name": "story", "schema": JSON_SCHEMA}}
    for _ in range(rounds):
        free += await streamed_itl(client, url, fixed)
        structured += await streamed_itl(client, url, {**fixed, "response_format": schema})
    return Features(
        n4=min(n4),
        separate_concurrent=min(concurrent),
        separate_sequential=min(sequential),
        itl_free=statistics.mean(free) if free else 0.0,
        itl_json=statistics.mean(structured) if structured else 0.0,
    )


async def bench(
    url: str,
    inference: str,
    max_tokens: int,
    levels: list[int],
    rounds: int,
    pairs: int = 0,
    with_features: bool = False,
) -> tuple[list[Row], Overhead | None, Features | None]:
    """The reference, the worker and the gateway at every concurrency, their rounds interleaved;
    then the first tokens after a pause, alternating, and what ``n`` and structured decoding cost."""
    gap = None
    costs = None
    connector = aiohttp.TCPConnector(limit=0)  # one connection per stream, as many as the level
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=600)) as http:
        await via_gateway(http, url, 4)  # places and loads the model
        rows = []
        async with grpc.aio.insecure_channel(inference) as channel:
            workers = await pb_grpc.InferenceServiceStub(channel).ListWorkers(
                pb.ListWorkersRequest(), timeout=10
            )
        address = next(w.grpc_address for w in workers.workers if TRITON_MODEL in w.models)
        triton = InferenceServerClient(address)
        # The mesh is idle while a reference round runs in this process, and the other way round.
        reference = await asyncio.to_thread(Reference)
        paths: dict[str, RoundOf] = {
            REFERENCE: lambda streams, n: asyncio.to_thread(reference.round, streams, n),
            "worker": concurrently(lambda n: via_worker(triton, n)),
            "gateway": concurrently(lambda n: via_gateway(http, url, n)),
        }
        try:
            for streams in levels:
                rows += await measure(paths, streams, rounds, max_tokens)
            if pairs:
                gap = await overhead(paths, pairs)
            if with_features:
                costs = await features(http, url, max_tokens, rounds)
        finally:
            reference.close()
            await triton.close()
    return rows, gap, costs


def table(rows: list[Row], max_tokens: int) -> str:
    """The results as one markdown table, each row with its ratio to llama.cpp at its concurrency."""
    reference = {r.streams: r for r in rows if r.path == REFERENCE}
    lines = [
        f"max_tokens={max_tokens}, greedy, prompt={PROMPT!r}, {THREADS} llama.cpp threads; "
        f"reference: llama.cpp in process (chat API for 1 stream, batched decode for more)",
        "| path | streams | TTFT p50 ms | TTFT p99 ms | ITL mean ms | ITL p99 ms | aggregate tokens/s "
        "| tokens/s vs llama.cpp | TTFT vs llama.cpp |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ref = reference.get(r.streams)
        ratio = f"{r.tokens_per_second / ref.tokens_per_second:.2f}x" if ref else "-"
        ttft = f"{r.ttft_p50 - ref.ttft_p50:+.1f} ms" if ref else "-"
        lines.append(
            f"| {r.path} | {r.streams} | {r.ttft_p50:.1f} | {r.ttft_p99:.1f} | {r.itl_mean:.1f} | "
            f"{r.itl_p99:.1f} | {r.tokens_per_second:.1f} | {ratio} | {ttft} |"
        )
    return "\n".join(lines)


def targets(rows: list[Row]) -> list[tuple[str, bool]]:
    """The engine's targets against llama.cpp from the same run: (line, met)."""
    found = {(r.path, r.streams): r for r in rows}
    checks = []
    ref1, gate1 = found.get((REFERENCE, 1)), found.get(("gateway", 1))
    if ref1 and gate1:
        ratio = gate1.tokens_per_second / ref1.tokens_per_second
        checks.append(
            (f"one stream through the gateway: {ratio:.2f}x llama.cpp's tokens/s (>= 0.90x)", ratio >= 0.9)
        )
        extra = gate1.ttft_p50 - ref1.ttft_p50
        checks.append(
            (
                f"time to first token through the gateway: llama.cpp's {extra:+.1f} ms (<= +10 ms)",
                extra <= 10.0,
            )
        )
    top = max((r.streams for r in rows), default=0)
    ref_n, gate_n = found.get((REFERENCE, top)), found.get(("gateway", top))
    if top > 1 and ref_n and gate_n:
        ratio = gate_n.tokens_per_second / ref_n.tokens_per_second
        checks.append(
            (
                f"{top} streams through the gateway: {gate_n.tokens_per_second:.1f} tokens/s, {ratio:.2f}x "
                f"llama.cpp's batched decode ({ref_n.tokens_per_second:.1f}) (>= 0.90x)",
                ratio >= 0.9,
            )
        )
    return checks


def main() -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="gateway URL of a running mesh (else one is started)")
    parser.add_argument("--inference", help="inference gRPC address of that mesh")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--streams", default="1,4,16")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help=f"rounds per concurrency level (more where a row would have under {MIN_TTFT_SAMPLES} first tokens)",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=20,
        help="alternating single requests per path for the first token after a pause",
    )
    parser.add_argument(
        "--features",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure n=4 against separate requests, and structured decoding against free text",
    )
    args = parser.parse_args()
    levels = [int(s) for s in args.streams.split(",")]
    with ExitStack() as stack:
        if args.url:
            url, inference = args.url, args.inference
        else:
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from tests.procs import RATE_LIMITS_OFF, run_mesh

            directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            mesh = stack.enter_context(run_mesh(directory, RATE_LIMITS_OFF, preload_llm=True))
            url, inference = mesh.base_url, mesh.address("inference")
        rows, gap, costs = asyncio.run(
            bench(url, inference, args.max_tokens, levels, args.rounds, args.pairs, args.features)
        )
    print(table(rows, args.max_tokens))
    if gap is not None:
        print(gap.line())
    for line in costs.lines() if costs is not None else []:
        print(line)
    for line, met in targets(rows):
        print(f"{'PASS' if met else 'FAIL'}: {line}")


if __name__ == "__main__":
    main()
