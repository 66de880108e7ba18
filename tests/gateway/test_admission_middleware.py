"""The gateway's front-door admission: past ``max_in_flight_inference`` inference requests a new one
is refused at once with 429, Retry-After and the surface's envelope; other requests pass; a finished
request frees its place."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from gateway.admission import AdmissionMiddleware
from gateway.errors import install_error_handlers


class HeldApp:
    """An app whose requests wait until released (the requests in flight)."""

    def __init__(self, expected: int = 0) -> None:
        self.release = asyncio.Event()
        self.all_in = asyncio.Event()
        self.expected = expected
        self.entered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.entered += 1
        if self.entered == self.expected:
            self.all_in.set()
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def call(app: Any, path: str, method: str = "POST") -> tuple[int, dict[str, str], bytes]:
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [],
        "app": FastAPI(),
        "state": {"request_id": "req_test"},
    }
    install_error_handlers(scope["app"])
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return (
        start["status"],
        headers,
        b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"),
    )


async def test_requests_past_the_limit_are_refused_and_places_come_back() -> None:
    held = HeldApp(expected=2)
    admission = AdmissionMiddleware(held, limit=2)
    first = [asyncio.create_task(call(admission, "/v1/chat/completions")) for _ in range(2)]
    await held.all_in.wait()
    status, headers, body = await call(admission, "/v1/chat/completions")
    assert status == 429 and headers["retry-after"] == "1"
    error = json.loads(body)["error"]  # OpenAI's envelope for an OpenAI path
    assert "gateway is at capacity" in error["message"] and error["type"] == "rate_limit_error"
    status, _, body = await call(admission, "/predict")
    assert status == 429 and json.loads(body)["success"] is False  # document 001's envelope
    assert held.entered == 2  # nothing refused reached the app
    held.release.set()
    assert [(await task)[0] for task in first] == [200, 200]
    assert admission.in_flight == 0
    assert (await call(admission, "/v1/chat/completions"))[0] == 200  # its place came back


async def test_other_requests_and_a_zero_limit_pass_through() -> None:
    held = HeldApp()
    held.release.set()
    admission = AdmissionMiddleware(held, limit=1)
    admission.in_flight = 1  # full
    assert (await call(admission, "/v1/models", method="GET"))[0] == 200
    assert (await call(admission, "/auth/login"))[0] == 200
    unlimited = AdmissionMiddleware(held, limit=0)
    unlimited.in_flight = 10_000
    assert (await call(unlimited, "/predict"))[0] == 200
