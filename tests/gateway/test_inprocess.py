"""The in-process caller behind 003's ``/api/gateway/route``: status and headers as soon as the route
starts, body chunks as they are produced, and a reader that leaves cancels the route. No processes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from gateway import inprocess
from services.common.errors import InternalError


class Gates:
    """Lets the test release a streaming route one chunk at a time and see how it ended."""

    def __init__(self) -> None:
        self.release = asyncio.Queue[None]()
        self.ended = asyncio.Event()
        self.cancelled = False


def app_with(gates: Gates) -> Starlette:
    async def echo(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse(
            {"got": body, "query": dict(request.query_params), "auth": request.headers.get("authorization")},
            status_code=201,
            headers={"x-ratelimit-remaining": "7"},
        )

    async def stream(request: Request) -> StreamingResponse:
        async def events() -> AsyncIterator[bytes]:
            try:
                for n in range(3):
                    await gates.release.get()
                    yield f"data: {n}\n\n".encode()
            except asyncio.CancelledError:
                gates.cancelled = True
                raise
            finally:
                gates.ended.set()

        return StreamingResponse(events(), media_type="text/event-stream")

    async def broken(request: Request) -> JSONResponse:
        raise RuntimeError("boom")

    return Starlette(
        routes=[
            Route("/echo", echo, methods=["POST"]),
            Route("/stream", stream),
            Route("/broken", broken),
        ]
    )


async def read_all(reply: inprocess.InProcessReply) -> bytes:
    return b"".join([chunk async for chunk in reply.body])


async def test_status_headers_body_and_query_pass_through() -> None:
    app = app_with(Gates())
    payload = json.dumps({"a": 1}).encode()
    reply = await inprocess.call(
        app,
        "POST",
        "/echo",
        headers={"authorization": "Bearer t", "content-type": "application/json"},
        query=b"x=1&y=two",
        body=payload,
    )
    assert reply.status_code == 201 and reply.header("X-RateLimit-Remaining") == "7"
    assert reply.header("content-type") == "application/json"
    assert json.loads(await read_all(reply)) == {
        "got": {"a": 1},
        "query": {"x": "1", "y": "two"},
        "auth": "Bearer t",
    }


async def test_chunks_arrive_as_the_route_produces_them() -> None:
    gates = Gates()
    reply = await inprocess.call(app_with(gates), "GET", "/stream", headers={})
    assert (
        reply.status_code == 200
        and reply.header(
            "content-type",
        )
        == "text/event-stream; charset=utf-8"
    )
    chunks = reply.body.__aiter__()
    for n in range(3):
        pending = asyncio.ensure_future(chunks.__anext__())
        await asyncio.sleep(0.05)
        assert not pending.done(), "a chunk arrived before the route produced it"
        gates.release.put_nowait(None)
        assert await asyncio.wait_for(pending, 5) == f"data: {n}\n\n".encode()
    with pytest.raises(StopAsyncIteration):
        await chunks.__anext__()
    assert gates.ended.is_set() and not gates.cancelled


async def test_a_reader_that_leaves_cancels_the_route() -> None:
    gates = Gates()
    reply = await inprocess.call(app_with(gates), "GET", "/stream", headers={})
    gates.release.put_nowait(None)
    chunks = reply.body.__aiter__()
    assert await chunks.__anext__() == b"data: 0\n\n"
    await reply.body.aclose()  # type: ignore[attr-defined]
    await asyncio.wait_for(gates.ended.wait(), 5)
    assert gates.cancelled


async def test_a_failing_route_is_its_500() -> None:
    reply = await inprocess.call(app_with(Gates()), "GET", "/broken", headers={})
    assert reply.status_code == 500
    assert await read_all(reply) == b"Internal Server Error"


async def test_a_route_that_sends_nothing_is_an_internal_error() -> None:
    async def silent(scope: object, receive: object, send: object) -> None:
        return None

    with pytest.raises(InternalError, match="sent no response"):
        await inprocess.call(silent, "GET", "/", headers={})  # type: ignore[arg-type]
