"""A stand-in for a Consul agent that follows its documented HTTP API, for contract tests.

Implemented: ``PUT /v1/agent/service/register`` (service definition with one ``Check``),
``PUT /v1/agent/service/deregister/:id`` and ``GET /v1/health/service/:service`` with ``passing`` and the
blocking-query parameters ``index``/``wait`` (the request hangs until the state's index passes ``index`` or
``wait`` runs out) and the ``X-Consul-Index`` response header. Like Consul, a new check starts ``critical``;
:meth:`FakeConsul.run_grpc_checks` runs each registered gRPC check the way the agent does
(``grpc.health.v1.Health/Check``) and records passing or critical.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def parse_duration(text: str) -> float:
    """Consul durations as used for ``wait``: ``10s``, ``5m``, ``250ms``."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not match:
        raise ValueError(text)
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    return float(match.group(1)) * scale


@dataclass
class Request:
    """One request the agent saw."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any = None


@dataclass
class State:
    """Registered services, check status, the raft-like index and the request log."""

    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)  # service id -> passing | warning | critical
    index: int = 10
    requests: list[Request] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def bump(self) -> None:
        """A write: the index grows and blocked queries wake."""
        with self.cond:
            self.index += 1
            self.cond.notify_all()


class FakeConsul:
    """Runs the agent on 127.0.0.1:<free port> in a thread."""

    node = {"ID": "node-1", "Node": "fake-node", "Address": "10.9.9.9", "Datacenter": "dc1"}

    def __init__(self) -> None:
        self.state = State()
        handler = type("Handler", (_Handler,), {"agent": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The agent's HTTP address."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeConsul:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self.state.cond:
            self.state.index += 1  # wake every blocked query so the threads end
            self.state.cond.notify_all()
        self.server.shutdown()
        self.server.server_close()

    # -- state changes a test makes ------------------------------------------------------------------

    def set_status(self, service_id: str, status: str) -> None:
        """Sets an instance's check status (as the agent would after running the check)."""
        with self.state.cond:
            self.state.status[service_id] = status
        self.state.bump()

    def reset_index(self, index: int) -> None:
        """Simulates an agent whose index went backwards (restored snapshot, new cluster)."""
        with self.state.cond:
            self.state.index = index
            self.state.cond.notify_all()

    def run_grpc_checks(self, timeout: float = 2.0) -> dict[str, str]:
        """Runs each registered gRPC check once, like the agent's check runner; returns the statuses."""
        for service_id, definition in list(self.state.services.items()):
            check = definition.get("Check") or {}
            if "GRPC" not in check:
                continue
            target, _, grpc_service = check["GRPC"].partition("/")
            status = "critical"
            with grpc.insecure_channel(target) as channel:
                try:
                    reply = health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(service=grpc_service), timeout=timeout
                    )
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        status = "passing"
                except grpc.RpcError:
                    pass
            self.set_status(service_id, status)
        return dict(self.state.status)

    def requests(self, method: str, prefix: str) -> list[Request]:
        """Requests seen with this method and path prefix."""
        return [r for r in list(self.state.requests) if r.method == method and r.path.startswith(prefix)]

    # -- API ----------------------------------------------------------------------------------------

    def health_entries(self, name: str, passing_only: bool) -> list[dict[str, Any]]:
        """The documented response of /v1/health/service/:service."""
        entries = []
        for service_id, definition in self.state.services.items():
            if definition["Name"] != name:
                continue
            status = self.state.status.get(service_id, "critical")
            if passing_only and status != "passing":
                continue
            check = definition.get("Check") or {}
            entries.append(
                {
                    "Node": self.node,
                    "Service": {
                        "ID": service_id,
                        "Service": name,
                        "Tags": definition.get("Tags", []),
                        "Address": definition.get("Address", ""),
                        "Port": definition.get("Port", 0),
                        "Meta": definition.get("Meta", {}),
                    },
                    "Checks": [
                        {
                            "Node": self.node["Node"],
                            "CheckID": check.get("CheckID", f"service:{service_id}"),
                            "Name": check.get("Name", ""),
                            "Status": status,
                            "ServiceID": service_id,
                            "ServiceName": name,
                            "Type": "grpc" if "GRPC" in check else "",
                        }
                    ],
                }
            )
        return entries


class _Handler(BaseHTTPRequestHandler):
    agent: FakeConsul

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _reply(self, code: int, body: Any = None, index: int | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if index is not None:
            self.send_header("X-Consul-Index", str(index))
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> tuple[str, dict[str, list[str]], Any]:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.agent.state.requests.append(Request(self.command, url.path, query, body))
        return url.path, query, body

    def do_PUT(self) -> None:
        path, _, body = self._record()
        state = self.agent.state
        if path == "/v1/agent/service/register":
            if not isinstance(body, dict) or not body.get("Name"):
                self._reply(400, "missing service Name")
                return
            service_id = body.get("ID") or body["Name"]
            with state.cond:
                state.services[service_id] = body
                state.status[service_id] = body.get("Check", {}).get("Status", "critical")
            state.bump()
            self._reply(200)
            return
        match = re.fullmatch(r"/v1/agent/service/deregister/(.+)", path)
        if match:
            service_id = match.group(1)
            with state.cond:
                known = state.services.pop(service_id, None)
                state.status.pop(service_id, None)
            if known is None:
                self._reply(404, f"Unknown service ID {service_id!r}")
                return
            state.bump()
            self._reply(200)
            return
        self._reply(404)

    def do_GET(self) -> None:
        path, query, _ = self._record()
        match = re.fullmatch(r"/v1/health/service/(.+)", path)
        if not match:
            self._reply(404)
            return
        state = self.agent.state
        # "passing" is a flag: present (with or without a value) filters to passing checks.
        passing = "passing" in query and query["passing"][0] not in ("false", "0")
        wait = min(parse_duration(query.get("wait", ["5m"])[0]), 600.0)
        with state.cond:
            if "index" in query:
                wanted = int(query["index"][0])
                state.cond.wait_for(lambda: state.index > wanted, timeout=wait)
            self._reply(200, self.agent.health_entries(match.group(1), passing), index=state.index)
