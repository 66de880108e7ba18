"""bench/relay_floor.py's relay: what it measures is only valid if every body reaches the upstream
as is and each answer goes back to the request it belongs to, at concurrency 32 too. The upstream
here stands in for Triton's HTTP endpoint and echoes what it got."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.floor_servers import CANNED
from bench.raw_http import RawHttp
from bench.relay_floor import floor_processes


class Echo(BaseHTTPRequestHandler):
    """Answers a POST with its path and body, as JSON, on a keep-alive connection."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = json.dumps({"path": self.path, "body": body.decode()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


async def test_each_body_comes_back_from_the_upstream_to_its_own_request(upstream: int) -> None:
    with floor_processes(upstream, "some-model") as (port, pids):
        assert set(pids) == {"floor relay", "floor gateway"} and all(pids.values())
        client = RawHttp("127.0.0.1", port)
        try:
            assert await client.post_json("/bare", b"{}") == CANNED
            bodies = [json.dumps({"n": n}).encode() for n in range(200)]
            queue = iter(bodies)
            answers: dict[bytes, dict[str, str]] = {}

            async def caller() -> None:
                for body in queue:
                    answers[body] = json.loads(await client.post_json("/relay", body))

            await asyncio.gather(*(caller() for _ in range(32)))
        finally:
            await client.close()
    assert len(answers) == len(bodies)
    for body, answer in answers.items():
        assert answer == {"path": "/v2/models/some-model/infer", "body": body.decode()}
