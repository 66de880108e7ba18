"""The floor under every hop of the mesh: what one Python gRPC call costs between two processes on
this machine, when the server does nothing.

A server process answers ``InferenceService.Predict`` with an empty response at once; the client
calls it sequentially, then from 32 concurrent callers. Beside it, the same request as a message of
one open ``PredictBatchStream`` call, through the gateway's client (``gateway/batch_stream.py``) and
the service's multiplexing (``services/common/multiplex.py``), answered empty at once; and the same
round trip over a plain asyncio TCP stream (a 4-byte request, a 4-byte answer), which is what a call
costs without gRPC's machinery: grpc.aio hands each completion from its poller thread to the event
loop.

The REST path of ``bench/predict.py`` makes one such hop (gateway → inference service, a stream
message by default) on top of the HTTP request and the call to Triton, so its overhead over direct
Triton cannot go below this floor. Run: ``.venv/bin/python bench/grpc_floor.py [--calls 3000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.predict import at_concurrency, cell_of
from gateway.batch_stream import BatchStream
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.common.multiplex import answer_concurrently
from services.launcher.backing import port_open
from tests.procs import free_port


class Idle(ipb_grpc.InferenceServiceServicer):
    """Answers every prediction with an empty response."""

    async def Predict(self, request: ipb.PredictRequest, context: object) -> ipb.PredictResponse:
        return ipb.PredictResponse()

    async def PredictBatchStream(
        self, request_iterator: AsyncIterator[ipb.PredictBatchStreamRequest], context: object
    ) -> AsyncIterator[ipb.PredictBatchStreamResponse]:
        async def answer(message: ipb.PredictBatchStreamRequest) -> ipb.PredictBatchStreamResponse:
            return ipb.PredictBatchStreamResponse(id=message.id)

        async for response in answer_concurrently(request_iterator, answer, asyncio.Event()):
            yield response


async def serve(grpc_port: int, tcp_port: int) -> None:
    """The server process: the gRPC service and the TCP echo, until killed."""
    server = grpc.aio.server()
    ipb_grpc.add_InferenceServiceServicer_to_server(Idle(), server)
    server.add_insecure_port(f"127.0.0.1:{grpc_port}")
    await server.start()

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(4):
            writer.write(data)

    async with await asyncio.start_server(echo, "127.0.0.1", tcp_port):
        await server.wait_for_termination()


async def measure(calls: int, grpc_port: int, tcp_port: int) -> None:
    """Both round trips, sequential and at concurrency 32, alternating in three rounds."""
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}")
    stub = ipb_grpc.InferenceServiceStub(channel)
    request = ipb.PredictRequest()
    streams = [await asyncio.open_connection("127.0.0.1", tcp_port) for _ in range(32)]
    idle = list(streams)

    async def tcp_round_trip() -> None:
        reader, writer = idle.pop()
        writer.write(b"ping")
        await reader.readexactly(4)
        idle.append((reader, writer))

    stream = BatchStream(lambda: stub.PredictBatchStream())
    batch = ipb.PredictBatchRequest()
    paths: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("grpc.aio unary call", lambda: stub.Predict(request)),
        ("grpc.aio stream message", lambda: stream.send(batch, 10.0)),
        ("asyncio TCP round trip", tcp_round_trip),
    ]
    found: dict[str, list[float]] = {label: [] for label, _ in paths}
    seconds = dict.fromkeys(found, 0.0)
    rates: dict[str, list[float]] = {label: [] for label in found}
    for _ in range(3):
        for label, call in paths:
            await at_concurrency(call, 100, 1)
            seconds[label] += await at_concurrency(call, calls // 3, 1, found[label])
            rates[label].append(calls / await at_concurrency(call, calls, 32))
    print(f"\n{'path':<26}{'seq p50 ms':>12}{'seq p99 ms':>12}{'c32 calls/s':>13}")
    for label, latencies in found.items():
        p50, p99, _ = cell_of(latencies, seconds[label])
        print(f"{label:<26}{p50:>12.3f}{p99:>12.3f}{sorted(rates[label])[1]:>13.0f}")
    print("(c32: the median of three rounds)")
    for _, writer in streams:
        writer.close()
    stream.close()
    await channel.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=3000, help="calls per path and cell")
    parser.add_argument("--serve", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(*args.serve))
        return
    grpc_port, tcp_port = free_port(), free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(grpc_port), str(tcp_port)])
    try:
        deadline = time.monotonic() + 30
        while not (port_open("127.0.0.1", grpc_port) and port_open("127.0.0.1", tcp_port)):
            assert server.poll() is None and time.monotonic() < deadline, "the server process did not start"
            time.sleep(0.05)
        asyncio.run(measure(args.calls, grpc_port, tcp_port))
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
