"""The gateway as a process: it serves, and on SIGTERM it drains and exits 0 like every service."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.procs import free_port, start_service

pytestmark = pytest.mark.integration


def test_sigterm_stops_the_gateway_with_exit_code_zero(tmp_path: Path) -> None:
    port = free_port()
    proc = start_service("gateway", tmp_path, env={"MESHSERVE_GATEWAY_PORT": str(port)}, module="gateway")
    try:
        deadline = time.monotonic() + 30
        while True:  # the ready line comes just before uvicorn binds
            try:
                reply = httpx.get(f"http://127.0.0.1:{port}/v2/health/live", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "gateway never listened"
                time.sleep(0.2)
        assert reply.status_code == 200
    finally:
        assert proc.terminate() == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/v2/health/live", timeout=2)
