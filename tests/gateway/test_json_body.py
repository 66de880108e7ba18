"""A hot route reads its JSON body with ``gateway.json_body`` and refuses a bad one exactly as FastAPI's
own body parameter does: the same status and the same error, in the surface's envelope. Two twin
routes in one app, one of each kind, answer the same requests. No processes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictInt

from gateway.errors import install_error_handlers
from gateway.json_body import json_body
from gateway.request_id import RequestIdMiddleware


class Body(BaseModel):
    model_name: str = "example"
    inputs: Any = Field(...)
    count: StrictInt = 1


def twin_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)

    @app.post("/by-fastapi")
    async def by_fastapi(body: Body) -> dict[str, Any]:
        return body.model_dump()

    @app.post("/by-hand")
    async def by_hand(request: Request) -> Response:
        return JSONResponse((await json_body(request, Body)).model_dump())

    return app


JSON = "application/json"
VALID = ("valid", "json with parameters", "vendor json")
CASES = [
    ("valid", b'{"inputs": [[1, 2]], "count": 3}', JSON),
    ("json with parameters", b'{"inputs": [[1, 2]], "count": 3}', "application/json; charset=utf-8"),
    ("vendor json", b'{"inputs": [[1, 2]], "count": 3}', "application/vnd.api+json"),
    ("empty", b"", JSON),
    ("malformed", b'{"inputs": [1, 2,', JSON),
    ("not utf-8", b"K\xffqs\xc3\x1cm", JSON),
    ("not an object", b"[1, 2]", JSON),
    ("missing field", b'{"model_name": "m"}', JSON),
    ("wrong type", b'{"inputs": 1, "count": false}', JSON),
    ("nested wrong type", b'{"inputs": 1, "model_name": {"a": 1}}', JSON),
    ("text", b'{"inputs": [1]}', "text/plain"),
    ("json, but not application/", b'{"inputs": [1]}', "text/json"),
    ("no content type", b'{"inputs": [1]}', ""),
    ("form", b"inputs=1", "application/x-www-form-urlencoded"),
]


@pytest.mark.parametrize(("case", "content", "content_type"), CASES, ids=[c[0] for c in CASES])
async def test_a_hand_read_body_answers_as_fastapis_own(case: str, content: bytes, content_type: str) -> None:
    headers = {"X-Request-ID": "same-id", **({"Content-Type": content_type} if content_type else {})}
    transport = httpx.ASGITransport(app=twin_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        by_fastapi = await client.post("/by-fastapi", content=content, headers=headers)
        by_hand = await client.post("/by-hand", content=content, headers=headers)
    assert by_hand.status_code == by_fastapi.status_code, (by_hand.text, by_fastapi.text)
    assert by_hand.json() == by_fastapi.json()
    if case in VALID:
        assert by_hand.json() == {"model_name": "example", "inputs": [[1, 2]], "count": 3}
    else:
        assert by_hand.status_code == 400 and by_hand.json()["code"] == "INVALID_INPUT"
