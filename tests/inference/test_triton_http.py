"""The keep-alive HTTP data path to Triton: the binary tensor layout both ways, and how it fails
(against small asyncio servers on real sockets; the real Triton path is covered by the predict
surface and worker failure tests)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import numpy as np
import pytest

from services.inference import triton_http
from services.inference.tensors import WireTensor
from services.inference.triton_http import TritonHttpClient, WorkerError, decode_response, encode_request

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
#: Starts a server with a handler and returns a client of it.
Serve = Callable[[Handler], Awaitable[TritonHttpClient]]


def test_request_layout_is_triton_binary_extension() -> None:
    floats = np.arange(6, dtype=np.float32).reshape(2, 3)
    words = np.array([b"hi", b"there"], dtype=np.object_)
    body, head_length = encode_request(
        [WireTensor.of_numpy("x", floats), WireTensor.of_numpy("w", words)],
        ["y"],
        "rid-1",
        {"traceparent": "00-ab"},
    )
    header = json.loads(body[:head_length])
    assert header["id"] == "rid-1" and header["parameters"]["traceparent"] == "00-ab"
    assert header["outputs"] == [{"name": "y", "parameters": {"binary_data": True}}]
    assert [(i["name"], i["datatype"], i["shape"]) for i in header["inputs"]] == [
        ("x", "FP32", [2, 3]),
        ("w", "BYTES", [2]),
    ]
    tail = body[head_length:]
    assert tail[:24] == floats.tobytes()
    assert tail[24:] == b"\x02\x00\x00\x00hi\x05\x00\x00\x00there"
    assert header["inputs"][1]["parameters"]["binary_data_size"] == len(tail) - 24


def test_response_outputs_decode_by_name() -> None:
    ints = np.array([[1, -2], [3, 4]], dtype=np.int64)
    header = json.dumps(
        {
            "model_version": "1",
            "outputs": [
                {"name": "a", "datatype": "INT64", "shape": [2, 2], "parameters": {"binary_data_size": 32}},
                {"name": "b", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": 7}},
                {"name": "c", "datatype": "FP32", "shape": [2], "data": [0.5, 1.5]},
            ],
        }
    ).encode()
    result = decode_response(header + ints.tobytes() + b"\x03\x00\x00\x00abc", len(header))
    a = result.tensor("a")
    assert (a.datatype, a.shape, bytes(a.data)) == ("INT64", (2, 2), ints.tobytes())  # the body's bytes
    np.testing.assert_array_equal(a.numpy(), ints)
    assert result.tensor("b").numpy().tolist() == [b"abc"]
    np.testing.assert_array_equal(result.tensor("c").numpy(), np.array([0.5, 1.5], np.float32))
    assert result.tensor("missing") is None and result.model_version == "1"


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    return head + await reader.readexactly(length)


def reply(status: int, body: bytes, header_length: int | None = None) -> bytes:
    extra = f"Inference-Header-Content-Length: {header_length}\r\n" if header_length is not None else ""
    return f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


OK_HEADER = json.dumps(
    {"outputs": [{"name": "y", "datatype": "FP32", "shape": [1], "parameters": {"binary_data_size": 4}}]}
).encode()
OK = reply(200, OK_HEADER + np.float32(7).tobytes(), len(OK_HEADER))
X = [WireTensor.of_numpy("x", np.ones((1,), np.float32))]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []
    clients: list[TritonHttpClient] = []

    async def start(handler: Handler) -> TritonHttpClient:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        client = TritonHttpClient(f"127.0.0.1:{server.sockets[0].getsockname()[1]}")
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()
    for server in servers:
        server.close()


async def test_connections_are_kept_alive_and_a_closed_one_is_replaced(serve: Serve) -> None:
    connections: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections))
        served = 0
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                break
            writer.write(OK)
            await writer.drain()
            served += 1
            if len(connections) == 1 and served == 2:  # the first connection closes after two
                writer.close()
                return

    client = await serve(handler)
    for _ in range(4):
        result = await client.infer("m", X, [])
        assert result.tensor("y").numpy().tolist() == [7.0]
    assert len(connections) == 2  # two on the first, the closed one replaced once


async def test_the_pool_shrinks_back_after_a_burst(serve: Serve, monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections a burst opened are closed once idle past the expiry: the pool does not hold its
    high-water mark of sockets (on both ends) for the life of the process."""
    open_now = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_now
        open_now += 1
        try:
            while True:
                await read_request(reader)
                await asyncio.sleep(0.01)  # long enough for the burst's calls to overlap
                writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            open_now -= 1
            writer.close()

    client = await serve(handler)
    await asyncio.gather(*(client.infer("m", X, []) for _ in range(6)))
    assert open_now == 6  # the burst's connections, kept alive
    monkeypatch.setattr(triton_http, "IDLE_EXPIRY_SECONDS", 0.05)
    await asyncio.sleep(0.1)
    await client.infer("m", X, [])  # reuses the newest; the rest have expired
    for _ in range(50):
        if open_now == 1:
            break
        await asyncio.sleep(0.01)
    assert open_now == 1


async def test_errors_carry_triton_grpc_status_names(serve: Serve) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply(400, b'{"error":"unexpected shape for input \'x\'"}'))
        await writer.drain()

    client = await serve(handler)
    with pytest.raises(WorkerError) as caught:
        await client.infer("m", X, [])
    assert caught.value.code == "INVALID_ARGUMENT"
    assert "unexpected shape" in caught.value.message


async def test_lost_worker_is_unavailable_and_slow_one_times_out(serve: Serve) -> None:
    async def dies_mid_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK[:20])
        await writer.drain()
        writer.close()

    async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    client = await serve(dies_mid_answer)
    with pytest.raises(WorkerError) as caught:
        await client.infer("m", X, [])
    assert caught.value.code == "UNAVAILABLE"

    slow = await serve(never_answers)
    with pytest.raises(WorkerError) as caught:
        await slow.infer("m", X, [], timeout=0.2)
    assert caught.value.code == "DEADLINE_EXCEEDED"

    server = await asyncio.start_server(never_answers, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(WorkerError) as caught:
        await TritonHttpClient(f"127.0.0.1:{port}").infer("m", X, [])
    assert caught.value.code == "UNAVAILABLE"
