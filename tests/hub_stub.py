"""A loopback stand-in for the Hugging Face hub, which tests cannot reach: a contract stub.

It answers every request as the hub answers for a repository it does not have (or a private one
asked without a token): status 404 with the ``X-Error-Code: RepoNotFound`` header that
``huggingface_hub`` reads (``utils/_http.py``, ``hf_raise_for_status``) to raise
``RepositoryNotFoundError``. Setting ``HF_ENDPOINT`` to its ``url`` points a process's
``huggingface_hub`` at it.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BODY = b'{"error":"Repository not found"}'


class _Handler(BaseHTTPRequestHandler):
    def _not_found(self, body: bytes) -> None:
        self.send_response(404)
        self.send_header("X-Error-Code", "RepoNotFound")
        self.send_header("X-Error-Message", "Repository not found")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._not_found(BODY)

    def do_HEAD(self) -> None:
        self._not_found(b"")

    def log_message(self, *args: Any) -> None:
        pass


class EmptyHub:
    """A hub with no repositories, on a loopback port; ``close`` stops it."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
