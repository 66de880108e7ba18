"""Readiness means ready (real processes, real sockets, a real PostgreSQL that comes up late).

A service listens at once and its ``meshserve.liveness`` health name says SERVING, but its readiness
(``""`` and its service names) stays NOT_SERVING while its database does not accept connections;
it turns SERVING once the database answers (and, for inference, a Triton worker serves), and
NOT_SERVING again on SIGTERM while it drains, before it stops accepting calls.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from meshserve.v1 import inference_pb2, inference_pb2_grpc
from tests.procs import ROOT, free_port
from tests.servers import pg_bin, postgres_server

pytestmark = pytest.mark.skipif(pg_bin() is None, reason="PostgreSQL is not installed")


def status(address: str, service: str = "") -> str:
    """The grpc.health.v1 status of ``service`` at ``address``, UNREACHABLE or NOT_FOUND."""
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=2
            )
        except grpc.RpcError as error:
            code = error.code()
            return "NOT_FOUND" if code == grpc.StatusCode.NOT_FOUND else "UNREACHABLE"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"not {what} after {timeout}s")


class Lines:
    """A child's stdout, read in a thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(target=lambda: self.lines.extend(iter(stream.readline, "")), daemon=True).start()

    def has(self, prefix: str) -> bool:
        return any(line.startswith(prefix) for line in list(self.lines))


def spawn_service(service: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """``python -m services.<service>`` with exactly ``env``, its stdout readable (:class:`Lines`)."""
    return subprocess.Popen(
        [sys.executable, "-m", f"services.{service}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("service", ["inference", "registry"])
def test_a_service_is_not_ready_until_its_database_answers_and_not_ready_again_on_sigterm(
    service: str, tmp_path: Path
) -> None:
    upper = service.upper()
    port, pg_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "PYTHONUNBUFFERED": "1",
        "MESHSERVE_DATA_DIR": str(tmp_path),
        "MESHSERVE_INFERENCE_LLM_PRELOAD": "",
        f"MESHSERVE_{upper}_PORT": str(port),
        f"MESHSERVE_{upper}_DATABASE_URL": f"postgresql://meshserve@127.0.0.1:{pg_port}/postgres",
        f"MESHSERVE_{upper}_DRAIN_DELAY_SECONDS": "3",
    }
    process = spawn_service(service, env)
    lines = Lines(process)
    address = f"127.0.0.1:{port}"
    try:
        wait_for(lambda: lines.has("MESHSERVE_LISTENING"), 30, "listening")
        # Alive, not ready, for as long as the database refuses connections.
        for _ in range(3):
            assert status(address, "meshserve.liveness") == "SERVING"
            assert status(address) == "NOT_SERVING"
            time.sleep(1)
        assert process.poll() is None and not lines.has("MESHSERVE_READY")

        with postgres_server(port=pg_port):
            wait_for(lambda: status(address) == "SERVING", 90, "serving once the database answers")
            if service == "inference":
                # SERVING means a Triton worker serves, not merely that the port listens.
                with grpc.insecure_channel(address) as channel:
                    reply = inference_pb2_grpc.InferenceServiceStub(channel).ListWorkers(
                        inference_pb2.ListWorkersRequest(), timeout=10
                    )
                assert any(w.state == "ready" for w in reply.workers), reply
                assert status(address, "meshserve.v1.InferenceService") == "SERVING"
            wait_for(lambda: lines.has("MESHSERVE_READY"), 5, "announced ready")

            process.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            # Within the drain delay it still answers: not ready, yet alive.
            wait_for(lambda: status(address) == "NOT_SERVING", 2, "NOT_SERVING after SIGTERM")
            assert status(address, "meshserve.liveness") == "SERVING"
            assert time.monotonic() - sent < 3 and process.poll() is None
            assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
