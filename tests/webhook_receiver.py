"""A loopback HTTP server that records the POSTs it gets: the receiving end of webhooks and job
callbacks in tests (a real socket, no mock)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """One POST the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """A loopback HTTP server that records POSTs; paths in ``fail_first`` answer 500 once."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.fail_first: set[str] = set()
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._changed:
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    fail = self.path in receiver.fail_first
                    receiver.fail_first.discard(self.path)
                    receiver._changed.notify_all()
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, predicate: Any, timeout: float = 60) -> list[Received]:
        """Every POST so far matching ``predicate``, once there is at least one."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (found := [r for r in self.received if predicate(r)]):
                left = deadline - time.monotonic()
                assert left > 0, (
                    f"no matching POST; got {[(r.path, r.headers.get('x-webhook-event')) for r in self.received]}"
                )
                self._changed.wait(left)
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
