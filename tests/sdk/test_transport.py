"""The SDK's HTTP behaviour against a real local server: retries with Retry-After, SSE, error envelopes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import meshserve
from meshserve.compat.inferneo import InferneoAPIError, InferneoClient


class _Handler(BaseHTTPRequestHandler):
    """Answers by path: /flaky fails twice with 503 + Retry-After, then 200."""

    calls: list[float] = []

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/info":
            _Handler.calls.append(time.monotonic())
            if len(_Handler.calls) <= 2:
                self._send(
                    503, {"success": False, "error": "busy", "detail": "try later"}, {"Retry-After": "1"}
                )
            else:
                self._send(200, {"version": "0.1.0", "models": [], "gpu_memory": None})
        elif self.path == "/api/v1/models":
            self._send(
                404,
                {
                    "success": False,
                    "error": {"code": "MODEL_NOT_FOUND", "message": "no such model", "details": {}},
                },
            )
        elif self.path == "/health":
            self._send(
                401,
                {
                    "error": {
                        "message": "bad key",
                        "type": "authentication_error",
                        "code": "authentication_failed",
                    }
                },
            )
        else:
            self._send(
                429,
                {
                    "error": {
                        "code": "RATE_LIMIT_EXCEEDED",
                        "message": "slow down",
                        "details": {},
                        "suggestion": "",
                    }
                },
                {"Retry-After": "7"},
            )

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for token in ("The", " capital", " is", " Paris."):
            chunk = {
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"content": token}}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.calls = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_retries_503_twice_then_succeeds_waiting_as_told(server: str) -> None:
    client = meshserve.Client(server, max_retries=3)
    info = client.info()
    assert info["version"] == "0.1.0"
    calls = _Handler.calls
    assert len(calls) == 3
    assert calls[1] - calls[0] >= 0.95 and calls[2] - calls[1] >= 0.95  # Retry-After: 1


def test_gives_up_after_max_retries(server: str) -> None:
    client = meshserve.Client(server, max_retries=1)
    with pytest.raises(meshserve.ServerError) as caught:
        client.info()
    assert caught.value.status_code == 503 and "busy" in caught.value.message


def test_error_envelopes_become_typed_errors(server: str) -> None:
    client = meshserve.Client(server, max_retries=0)
    with pytest.raises(meshserve.NotFoundError) as not_found:
        client.list_models()
    assert not_found.value.code == "MODEL_NOT_FOUND" and not_found.value.message == "no such model"
    with pytest.raises(meshserve.AuthenticationError):
        client.health()
    with pytest.raises(meshserve.RateLimitError) as limited:
        client.get_system_status()
    assert limited.value.retry_after == 7


def test_inferneo_stream_example_shape(server: str) -> None:
    client = InferneoClient(base_url=server, api_key="k", max_retries=0)
    stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    text = "".join(chunk.choices[0].delta.content for chunk in stream)
    assert text == "The capital is Paris."
    with pytest.raises(InferneoAPIError) as caught:
        client.models.get("nope")
    assert caught.value.status_code == 429


def test_unreachable_gateway_is_a_network_error() -> None:
    client = meshserve.Client("http://127.0.0.1:9", max_retries=0, timeout=2)
    with pytest.raises(meshserve.NetworkError):
        client.info()
