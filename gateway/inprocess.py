"""Calls a route of this gateway in process and streams its response as the route produces it.

httpx's ``ASGITransport`` collects the whole body before it returns, so a routed SSE stream used to
arrive in one piece at the end. Here the route's ``send`` feeds a small bounded queue: the status
and headers are known as soon as the route starts its response, each body chunk is passed on as it
comes, and a caller that stops reading disconnects the route (which cancels its work upstream).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message

from services.common.errors import InternalError

#: Body chunks buffered between the route and the reader (backpressure beyond that).
QUEUE_SIZE = 16


@dataclass
class InProcessReply:
    """The routed response: status and headers at once, the body as it is produced."""

    status_code: int
    headers: list[tuple[str, str]]
    body: AsyncIterator[bytes]

    def header(self, name: str) -> str | None:
        """The first value of a header, by case-insensitive name."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


async def call(
    app: ASGIApp,
    method: str,
    path: str,
    *,
    headers: Mapping[str, str],
    query: bytes = b"",
    body: bytes = b"",
    client: tuple[str, int] = ("127.0.0.1", 0),
) -> InProcessReply:
    """Runs ``method path`` through ``app`` (its middleware included) and returns once the response
    has started. The body iterator must be read to the end or closed (``aclose``)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": client,
        "server": ("gateway", 80),
    }
    messages: asyncio.Queue[Message | None] = asyncio.Queue(QUEUE_SIZE)
    finished = asyncio.Event()
    request_sent = False

    async def receive() -> Message:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()  # the reader is gone or done: what a closed connection looks like
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if not finished.is_set():
            await messages.put(message)

    async def run() -> None:
        try:
            await app(scope, receive, send)
        finally:
            if not finished.is_set():
                await messages.put(None)  # the end, even of a route that failed mid-body

    task = asyncio.create_task(run())

    async def stop(cancel: bool = True) -> BaseException | None:
        """Ends the route (cancelled if still running, unless it completed its response and only
        its after-work, such as the audit record, is left) and returns what it raised, if anything."""
        finished.set()
        while not messages.empty():  # unblock a route waiting to send
            messages.get_nowait()
        if cancel and not task.done():
            task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return None
        except Exception as error:  # already rendered as the route's 500, or raised below
            return error
        return None

    start = await messages.get()
    if start is None or start["type"] != "http.response.start":
        failure = await stop()
        raise InternalError(f"the routed endpoint {method} {path} sent no response") from failure

    async def chunks() -> AsyncIterator[bytes]:
        complete = False
        try:
            while True:
                message = await messages.get()
                if message is None or message["type"] != "http.response.body":
                    return
                if message.get("body"):
                    yield message["body"]
                if not message.get("more_body", False):
                    complete = True
                    return
        finally:
            await stop(cancel=not complete)

    decoded = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start.get("headers", [])]
    return InProcessReply(start["status"], decoded, chunks())
