"""``Transport.download`` (what ``meshserve speak`` streams audio with) against a real local server:
pieces as they arrive, progress with and without a known size, 503 retried before the first byte,
errors raised as the SDK's types."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import meshserve
from meshserve.transport import Transport

PIECES = [b"RIFF" + b"a" * 1000, b"b" * 2000, b"c" * 3000]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked transfer needs 1.1
    busy_left = 1

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/chunked" and _Handler.busy_left:
            _Handler.busy_left -= 1
            self._json(503, {"error": {"message": "warming up", "code": "BACKEND_UNAVAILABLE"}}, "0")
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in PIECES:
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/sized":
            body = b"".join(PIECES)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self._json(404, {"error": {"message": "unknown voice 'x'", "code": "MODEL_NOT_FOUND"}})

    def _json(self, status: int, body: object, retry_after: str = "") -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if retry_after:
            self.send_header("Retry-After", retry_after)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def transport() -> Iterator[Transport]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = Transport(f"http://127.0.0.1:{server.server_address[1]}", max_retries=2, backoff_base=0.01)
    yield client
    client.close()
    server.shutdown()


def test_chunked_download_is_retried_then_streamed_with_unknown_size(transport: Transport) -> None:
    reports: list[tuple[int, int]] = []
    body = b"".join(transport.download("POST", "/chunked", lambda d, t: reports.append((d, t)), json={}))
    assert body == b"".join(PIECES) and _Handler.busy_left == 0
    assert reports[-1] == (len(body), 0)  # chunked: no total
    assert [d for d, _ in reports] == sorted(d for d, _ in reports)


def test_sized_download_reports_its_total(transport: Transport) -> None:
    reports: list[tuple[int, int]] = []
    body = b"".join(transport.download("POST", "/sized", lambda d, t: reports.append((d, t)), json={}))
    assert reports[-1] == (len(body), len(body))


def test_refusal_raises_before_any_piece(transport: Transport) -> None:
    pieces: list[bytes] = []
    with pytest.raises(meshserve.NotFoundError) as caught:
        pieces.extend(transport.download("POST", "/refused", json={}))
    assert pieces == [] and caught.value.code == "MODEL_NOT_FOUND" and "unknown voice" in str(caught.value)
