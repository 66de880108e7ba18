"""The thinnest two-hop relay the mesh's shape allows, for ``bench/relay_floor.py``: an HTTP process
and a gRPC process between the client and Triton, doing nothing but moving bytes.

- ``gateway PORT RELAY_PORT``: uvicorn (uvloop, httptools, one worker) serving a bare ASGI app, no
  framework and no middleware. ``POST /bare`` answers a fixed KServe v2 response at once: one
  Python HTTP process alone. Any other POST sends its body, as is, as one message of a long-lived
  gRPC stream (4 streams, messages tagged with an id, one writer task each) and answers what comes
  back, as is.
- ``relay PORT TRITON_HTTP_PORT TRITON_MODEL``: a ``grpc.aio`` server whose one bidirectional method posts each
  message's body, as is, to Triton's KServe v2 HTTP endpoint over keep-alive connections, and
  writes Triton's answer back, concurrently.

No JSON is parsed, no tensor converted, nothing checked, metered or logged: what meshserve's gateway
and inference service spend beyond this floor is their own work. Messages travel as raw bytes
(gRPC's generic handlers, no protobuf).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.raw_http import RawHttp

METHOD = "/floor.Relay/Stream"
STREAMS = 4
ID_BYTES = 8
#: What /bare answers: a KServe v2 response of the size bench-small's are.
CANNED = (
    b'{"model_name":"bench-small","model_version":"1","outputs":[{"name":"y","datatype":"FP32",'
    b'"shape":[1,3],"data":[0.12345678,-0.87654321,0.5]}]}'
)


class RelayStreams:
    """Sends bodies as tagged messages over a few open streams to the relay; routes answers by id."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.ids = itertools.count()
        self.waiting: dict[bytes, asyncio.Future[bytes]] = {}
        self.queues: list[asyncio.Queue[bytes]] = []
        self.turn = itertools.cycle(range(STREAMS))
        self.readers: list[asyncio.Task[None]] = []  # held: the loop keeps only weak references

    def open(self) -> None:
        """Opens the channel and its streams (inside the running event loop)."""
        channel = grpc.aio.insecure_channel(self.address)
        for _ in range(STREAMS):
            queue: asyncio.Queue[bytes] = asyncio.Queue()
            call = channel.stream_stream(METHOD)(self._messages(queue))
            self.readers.append(asyncio.get_running_loop().create_task(self._answers(call)))
            self.queues.append(queue)

    async def send(self, body: bytes) -> bytes:
        """The relay's answer to one body."""
        if not self.queues:
            self.open()
        tag = next(self.ids).to_bytes(ID_BYTES, "big")
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.waiting[tag] = future
        self.queues[next(self.turn)].put_nowait(tag + body)
        return await future

    @staticmethod
    async def _messages(queue: asyncio.Queue[bytes]) -> AsyncIterator[bytes]:
        while True:
            yield await queue.get()

    async def _answers(self, call: Any) -> None:
        with contextlib.suppress(grpc.aio.AioRpcError):  # the relay went away: the benchmark ended
            async for message in call:
                self.waiting.pop(message[:ID_BYTES]).set_result(message[ID_BYTES:])


def gateway_app(relay: RelayStreams) -> Any:
    """The bare ASGI app."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        payload = CANNED if scope["path"] == "/bare" else await relay.send(b"".join(chunks))
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return app


async def relay_server(port: int, triton_http_port: int, model: str) -> None:
    """The gRPC relay to one Triton model, until killed."""
    triton = RawHttp("127.0.0.1", triton_http_port)
    path = f"/v2/models/{model}/infer"

    async def stream(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
        answers: asyncio.Queue[bytes] = asyncio.Queue()

        async def answer(message: bytes) -> None:
            answers.put_nowait(message[:ID_BYTES] + await triton.post_json(path, message[ID_BYTES:]))

        answering: set[asyncio.Task[None]] = set()  # held: the loop keeps only weak references

        async def read() -> None:
            async for message in requests:
                task = asyncio.get_running_loop().create_task(answer(message))
                answering.add(task)
                task.add_done_callback(answering.discard)

        reading = asyncio.get_running_loop().create_task(read())
        try:
            while True:
                yield await answers.get()
        finally:
            reading.cancel()

    server = grpc.aio.server()
    handler = grpc.stream_stream_rpc_method_handler(stream)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("floor.Relay", {"Stream": handler}),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def main(argv: list[str]) -> None:
    """``gateway PORT RELAY_PORT`` or ``relay PORT TRITON_HTTP_PORT TRITON_MODEL``."""
    role, port, upstream = argv[0], int(argv[1]), int(argv[2])
    if role == "relay":
        import uvloop

        uvloop.run(relay_server(port, upstream, argv[3]))
        return
    app = gateway_app(RelayStreams(f"127.0.0.1:{upstream}"))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
