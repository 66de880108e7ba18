"""A stand-in for the Kubernetes API's batch/v1 Jobs and their pods, per the API reference, with a
kubelet of sorts: each Job's container runs here as a local process (``python`` is this
interpreter), so a driver is followed through real work.

- ``POST /apis/batch/v1/namespaces/{ns}/jobs`` creates a Job (409 ``AlreadyExists`` on a taken
  name) and starts its pod, named ``{job}-{suffix}`` and labelled ``job-name={job}``;
- ``GET /api/v1/namespaces/{ns}/pods?labelSelector=job-name={job}`` lists it: phase ``Running``,
  then ``Succeeded`` or ``Failed`` with the container's ``state.terminated.exitCode``;
- ``GET /api/v1/namespaces/{ns}/pods/{pod}/log`` is its output so far (``text/plain``);
- ``DELETE /apis/batch/v1/namespaces/{ns}/jobs/{job}?propagationPolicy=Background`` deletes the
  Job and kills its pod; a missing bearer token is 401.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

JOBS = re.compile(r"^/apis/batch/v1/namespaces/(?P<ns>[^/]+)/jobs(/(?P<name>[^/]+))?$")
PODS = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods(/(?P<pod>[^/]+)/log)?$")


class Pod:
    """A Job's one pod: its container as a local process and the output it wrote."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.name = f"{job['metadata']['name']}-{uuid.uuid4().hex[:5]}"
        container = job["spec"]["template"]["spec"]["containers"][0]
        command = [sys.executable if c == "python" else c for c in container.get("command", [])]
        self.output = ""
        self.process = subprocess.Popen(
            [*command, *container.get("args", [])],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output += line

    def body(self, namespace: str, job: str) -> dict[str, Any]:
        code = self.process.poll()
        phase = "Running" if code is None else ("Succeeded" if code == 0 else "Failed")
        state: dict[str, Any] = {"running": {}} if code is None else {"terminated": {"exitCode": code}}
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": self.name, "namespace": namespace, "labels": {"job-name": job}},
            "status": {
                "phase": phase,
                "containerStatuses": [
                    {
                        "name": "worker",
                        "image": "x",
                        "imageID": "x",
                        "ready": code is None,
                        "restartCount": 0,
                        "state": state,
                    }
                ],
            },
        }


class JobsStub:
    """Jobs by (namespace, name); every request recorded."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self.pods: dict[tuple[str, str], Pod] = {}
        self.requests: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
                data = (json.dumps(body) if content_type == "application/json" else body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _status(self, code: int, reason: str, message: str) -> None:
                status = "Success" if code < 400 else "Failure"
                body = {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": status,
                    "message": message,
                    "reason": reason,
                    "code": code,
                }
                self._send(code, body)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                stub.requests.append(
                    {"method": method, "path": url.path, "query": parse_qs(url.query), "body": raw.decode()}
                )
                if self.headers.get("Authorization") != f"Bearer {stub.token}":
                    return self._status(401, "Unauthorized", "Unauthorized")
                if match := JOBS.match(url.path):
                    return self._jobs(method, match["ns"], match["name"], raw)
                if (match := PODS.match(url.path)) and method == "GET":
                    return self._pods(match["ns"], match["pod"], parse_qs(url.query))
                return self._status(404, "NotFound", "the server could not find the requested resource")

            def _jobs(self, method: str, namespace: str, name: str | None, raw: bytes) -> None:
                if method == "POST" and name is None:
                    job = json.loads(raw)
                    if job.get("apiVersion") != "batch/v1" or job.get("kind") != "Job":
                        return self._status(400, "BadRequest", "the body is not a batch/v1 Job")
                    key = (namespace, job["metadata"]["name"])
                    if key in stub.jobs:
                        return self._status(409, "AlreadyExists", f'jobs.batch "{key[1]}" already exists')
                    stub.jobs[key] = job
                    stub.pods[key] = Pod(job)
                    return self._send(201, {**job, "status": {}})
                if method == "DELETE" and name is not None:
                    key = (namespace, name)
                    if key not in stub.jobs:
                        return self._status(404, "NotFound", f'jobs.batch "{name}" not found')
                    del stub.jobs[key]
                    pod = stub.pods.pop(key)
                    pod.process.kill()
                    pod.process.wait()
                    return self._status(200, "", "")
                return self._status(405, "MethodNotAllowed", "method not allowed")

            def _pods(self, namespace: str, pod_name: str | None, query: dict[str, list[str]]) -> None:
                if pod_name is None:
                    selector = query.get("labelSelector", [""])[0]
                    job = selector.removeprefix("job-name=")
                    pod = stub.pods.get((namespace, job))
                    items = [pod.body(namespace, job)] if pod is not None else []
                    return self._send(
                        200, {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items}
                    )
                for (ns, _job), pod in stub.pods.items():
                    if ns == namespace and pod.name == pod_name:
                        return self._send(200, pod.output, "text/plain")
                return self._status(404, "NotFound", f'pods "{pod_name}" not found')

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> JobsStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for pod in self.pods.values():
            if pod.process.poll() is None:
                pod.process.kill()
                pod.process.wait()
        self.server.shutdown()
        self.server.server_close()
