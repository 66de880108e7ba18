"""A real auth process and real gateways (in-process uvicorn, or processes) for the auth tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from gateway.app import create_app
from gateway.security import SecuritySettings, SecurityState
from gateway.settings import GatewaySettings
from services.common.settings import MeshEndpoints
from tests.procs import RATE_LIMITS_OFF, ROOT, ServiceProc, free_port, rate_limit_defaults, start_service

ADMIN_USER, ADMIN_PASSWORD = "root", "root-password-123"


@dataclass(frozen=True)
class Secrets:
    """The secrets one test mesh shares."""

    jwt_secret: str
    internal_token: str

    def env(self, enable_auth: bool = True) -> dict[str, str]:
        """Environment of every process of the mesh."""
        return {
            "ENABLE_AUTH": "true" if enable_auth else "false",
            "MESHSERVE_JWT_SECRET": self.jwt_secret,
            "MESHSERVE_INTERNAL_TOKEN": self.internal_token,
        }


def new_secrets() -> Secrets:
    """Fresh random secrets."""
    return Secrets(secrets.token_urlsafe(48), secrets.token_urlsafe(24))


def start_auth(data_dir: Path, keys: Secrets, **extra: str) -> ServiceProc:
    """The auth service with auth on and a bootstrap admin."""
    env = {
        **keys.env(),
        "MESHSERVE_AUTH_ADMIN_USERNAME": ADMIN_USER,
        "MESHSERVE_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
        **extra,
    }
    return start_service("auth", data_dir, env=env)


def endpoints_for(auth_address: str) -> MeshEndpoints:
    """Endpoints with auth real and every other service on a closed port (calls there get 503)."""
    closed = f"127.0.0.1:{free_port()}"
    return MeshEndpoints(
        auth_address=auth_address,
        registry_address=closed,
        inference_address=closed,
        speech_address=closed,
        autoscaler_address=closed,
        call_timeout_seconds=5,
    )


def gateway_app(auth_address: str, security: SecuritySettings) -> FastAPI:
    """The real gateway app pointed at the auth process, with the given security settings."""
    # Only auth runs here: the other services are absent, not restarting, so a call to one is
    # answered 503 at once rather than after waiting for it to come back.
    settings = GatewaySettings(call_timeout_seconds=5, restart_wait_seconds=0)
    app = create_app(settings, endpoints_for(auth_address))
    app.state.security = SecurityState(security)
    return app


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Serves an app with uvicorn on a free port in this event loop; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.contextmanager
def gateway_process(
    auth_address: str, keys: Secrets, env: dict[str, str], rate_limits: bool = False
) -> Iterator[str]:
    """``python -m gateway`` as its own process; yields its base URL once /openapi.json answers.

    ``rate_limits``: the gateway's default rate limits (no setting of them passed); else off."""
    port = free_port()
    child_env = {
        **(rate_limit_defaults(dict(os.environ)) if rate_limits else {**os.environ, **RATE_LIMITS_OFF}),
        **keys.env(),
        "MESHSERVE_AUTH_ADDRESS": auth_address,
        "MESHSERVE_GATEWAY_PORT": str(port),
        "MESHSERVE_GATEWAY_RESTART_WAIT_SECONDS": "0",  # only auth runs: the rest are absent
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway"], cwd=ROOT, env=child_env, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "gateway exited"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "gateway not ready"
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
