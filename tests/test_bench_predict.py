"""bench/predict.py's measuring parts: sequential cells cut into rotating rounds, and its keep-alive
client surviving a server that closed an idle connection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bench.predict import measure_rounds
from bench.raw_http import RawHttp


async def test_rounds_rotate_the_paths_and_pool_each_paths_latencies() -> None:
    log: list[str] = []

    def path(label: str, seconds: float) -> tuple[str, Callable[[], Awaitable[None]]]:
        async def call() -> None:
            log.append(label)
            await asyncio.sleep(seconds)

        return label, call

    paths = [path("a", 0.0), path("b", 0.004), path("c", 0.008)]
    cells, cpu = await measure_rounds(paths, requests=6, rounds=3, processes={}, warmup=1)
    # Warm-up once each, then per round: every path gets one re-warming call and two measured ones,
    # first path rotating a, b, c.
    rounds = log[3:]
    firsts = [rounds[i] for i in range(0, len(rounds), 9)]
    assert log[:3] == ["a", "b", "c"] and firsts == ["a", "b", "c"] and len(rounds) == 27
    assert rounds[:9] == ["a"] * 3 + ["b"] * 3 + ["c"] * 3
    assert cells["a"][0] < cells["b"][0] < cells["c"][0]
    assert 3 <= cells["b"][0] < 50 and all(rps > 0 for _, _, rps in cells.values())
    assert cpu == {"a": {}, "b": {}, "c": {}}


async def test_concurrent_rounds_warm_and_measure_each_path_at_the_concurrency() -> None:
    """The concurrency-32 cells are measured as the sequential ones: rotating rounds, after a warm-up
    at the cell's own concurrency (the first batches of each size are not timed)."""
    in_flight: dict[str, int] = {"a": 0, "b": 0}
    most: dict[str, int] = {"a": 0, "b": 0}
    calls: dict[str, int] = {"a": 0, "b": 0}

    def path(label: str) -> tuple[str, Callable[[], Awaitable[None]]]:
        async def call() -> None:
            calls[label] += 1
            in_flight[label] += 1
            most[label] = max(most[label], in_flight[label])
            await asyncio.sleep(0.002)
            in_flight[label] -= 1

        return label, call

    cells, _ = await measure_rounds([path("a"), path("b")], 40, 2, {}, concurrency=4, warmup=2)
    assert most == {"a": 4, "b": 4}
    assert calls == {"a": 2 * 4 + 2 + 40, "b": 2 * 4 + 2 + 40}  # warm-up, one call per slice, measured
    assert all(1 < p50 < 50 and rps > 0 for p50, _, rps in cells.values())


async def test_keep_alive_client_reconnects_when_the_server_closed_an_idle_connection() -> None:
    connections = 0

    async def one_request_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(
            next(v for k, _, v in (h.partition(b":") for h in head.split(b"\r\n")) if k == b"Content-Length")
        )
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # as a keep-alive timeout would, before the client sends again

    server = await asyncio.start_server(one_request_then_close, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RawHttp("127.0.0.1", port)
    try:
        assert await client.post_json("/x", b"{}") == b"ok"
        await asyncio.sleep(0.05)
        assert await client.post_json("/x", b"{}") == b"ok"
        assert connections == 2
    finally:
        await client.close()
        server.close()
        await server.wait_closed()
