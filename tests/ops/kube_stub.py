"""A stand-in for the Kubernetes API server's Deployment scale subresource, per the API reference.

``GET /apis/apps/v1/namespaces/{ns}/deployments/{name}/scale`` returns an ``autoscaling/v1`` Scale;
``PATCH`` accepts JSON merge or strategic merge patches of ``spec.replicas``; an unknown Deployment
is a 404 ``Status``; a wrong media type 415; a missing bearer token 401.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = re.compile(r"^/apis/apps/v1/namespaces/(?P<ns>[^/]+)/deployments/(?P<name>[^/?]+)/scale(\?.*)?$")
PATCH_TYPES = ("application/merge-patch+json", "application/strategic-merge-patch+json")


class KubeStub:
    """Deployments by (namespace, name) -> replicas; every request recorded."""

    def __init__(self, token: str, deployments: dict[tuple[str, str], int]) -> None:
        self.token = token
        self.deployments = dict(deployments)
        self.requests: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _status(self, code: int, reason: str, message: str) -> None:
                self._send(
                    code,
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "status": "Failure",
                        "message": message,
                        "reason": reason,
                        "code": code,
                    },
                )

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                stub.requests.append(
                    {
                        "method": method,
                        "path": self.path,
                        "content_type": self.headers.get("Content-Type", ""),
                        "body": body.decode() if body else "",
                    }
                )
                if self.headers.get("Authorization") != f"Bearer {stub.token}":
                    return self._status(401, "Unauthorized", "Unauthorized")
                match = PATH.match(self.path)
                if not match:
                    return self._status(404, "NotFound", "the server could not find the requested resource")
                key = (match["ns"], match["name"])
                if key not in stub.deployments:
                    return self._status(404, "NotFound", f'deployments.apps "{key[1]}" not found')
                if method == "PATCH":
                    if self.headers.get("Content-Type", "").split(";")[0] not in PATCH_TYPES:
                        return self._status(415, "UnsupportedMediaType", "unsupported patch type")
                    replicas = json.loads(body)["spec"]["replicas"]
                    if not isinstance(replicas, int) or replicas < 0:
                        return self._status(422, "Invalid", "spec.replicas: Invalid value")
                    stub.deployments[key] = replicas
                replicas = stub.deployments[key]
                self._send(
                    200,
                    {
                        "kind": "Scale",
                        "apiVersion": "autoscaling/v1",
                        "metadata": {
                            "name": key[1],
                            "namespace": key[0],
                            "resourceVersion": str(len(stub.requests)),
                        },
                        "spec": {"replicas": replicas},
                        "status": {"replicas": replicas, "selector": f"app={key[1]}"},
                    },
                )

            def do_GET(self) -> None:
                self._handle("GET")

            def do_PATCH(self) -> None:
                self._handle("PATCH")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> KubeStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
