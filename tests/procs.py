"""Starting real meshserve processes for tests: free ports, readiness, clean shutdown."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

#: The gateway's rate limits are on by default (anonymous callers too, by address: every test calls
#: from 127.0.0.1); the processes tests start get them off unless a test checks them.
RATE_LIMITS_OFF = {"MESHSERVE_GATEWAY_RATE_LIMITS": "off"}


def rate_limit_defaults(env: dict[str, str]) -> dict[str, str]:
    """``env`` without any ``MESHSERVE_GATEWAY_RATE_LIMIT*`` setting: the gateway's defaults."""
    return {k: v for k, v in env.items() if not k.startswith("MESHSERVE_GATEWAY_RATE_LIMIT")}


#: Replicas of a mesh process listen beside the first one (the launcher's ``replica_port``): the
#: gateway's at +1, +2, …, the other services' at +100, +200, ….
GATEWAY_REPLICA_OFFSETS = (1, 2, 3)
SERVICE_REPLICA_OFFSETS = (100, 200, 300)
#: Ports handed out in this session: a port stays free until its server binds it, so no port is
#: handed out twice.
_handed_out: set[int] = set()


def _ephemeral_ports_start() -> int:
    """Where the kernel's range for outgoing connections' local ports begins."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _port_range() -> tuple[int, int]:
    """The ports this session draws from: below the ephemeral range, and under pytest-xdist the
    worker's own slice of it, so two workers never hand out the same port."""
    top = _ephemeral_ports_start()
    low = 20000 if top > 21000 else 1024  # a kernel whose ephemeral range starts low leaves less
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    width = (top - low) // workers
    return low + worker * width, low + (worker + 1) * width


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port(*offsets: int) -> int:
    """A TCP port nothing listens on right now, with ``port + offset`` free too for each offset.

    It is drawn below the kernel's ephemeral range. The processes a test starts open outgoing
    connections, whose local ports come from that range, and one of them can take a port between
    this check and its server's bind: a replica gateway at the first one's port + 1 once failed to
    start with EADDRINUSE that way.
    """
    low, top = _port_range()
    top -= max(offsets, default=0)
    for _ in range(1000):
        port = random.randrange(low, top)
        wanted = [port, *(port + offset for offset in offsets)]
        if not _handed_out.intersection(wanted) and all(_bindable(p) for p in wanted):
            _handed_out.update(wanted)
            return port
    raise RuntimeError(f"no free TCP port between {low} and {top}")


@dataclass
class ServiceProc:
    """A service process started by a test."""

    name: str
    process: subprocess.Popen[str]
    port: int
    #: The event loop it reported in its ready line (``uvloop`` or ``asyncio``).
    loop: str = ""

    @property
    def address(self) -> str:
        """host:port of its gRPC server."""
        return f"127.0.0.1:{self.port}"

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM, wait, return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


def start_service(
    name: str,
    data_dir: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    module: str = "",
) -> ServiceProc:
    """Starts ``python -m services.<name>`` (or ``module``) on a free port and waits for its ready line."""
    upper = name.upper()
    child_env = {
        **os.environ,
        **RATE_LIMITS_OFF,
        f"MESHSERVE_{upper}_PORT": "0",
        f"MESHSERVE_{upper}_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
        # A test that starts one service pays for no language model it did not ask for.
        "MESHSERVE_INFERENCE_LLM_PRELOAD": "",
        **(env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", module or f"services.{name}"],
        cwd=ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{name} exited with {process.wait()} before it was ready")
        if line.startswith("MESHSERVE_READY"):
            fields = dict(part.split("=", 1) for part in line.split()[1:])
            return ServiceProc(name, process, int(fields["port"]), fields.get("loop", ""))
    process.kill()
    raise TimeoutError(f"{name} not ready after {timeout}s")


@dataclass
class Mesh:
    """A whole mesh started through ``meshserve up`` on free ports."""

    process: subprocess.Popen[str]
    ports: dict[str, int]
    data_dir: Path

    @property
    def base_url(self) -> str:
        """The gateway's URL."""
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def address(self, service: str) -> str:
        """host:port of a service."""
        return f"127.0.0.1:{self.ports[service]}"


@contextlib.contextmanager
def run_mesh(
    data_dir: Path,
    extra_env: dict[str, str] | None = None,
    timeout: float = 240,
    preload_llm: bool = False,
    rate_limits: bool = False,
) -> Iterator[Mesh]:
    """Runs ``meshserve up`` until the gateway's /health answers 200, then stops it on exit.

    ``preload_llm`` loads the default language model in the background at start (what ``make up``
    does); off by default so a mesh whose tests never generate spends no CPU on it.
    ``rate_limits`` keeps the gateway's default rate limits (what ``make up`` has); off by default
    (:data:`RATE_LIMITS_OFF`), as the mesh's tests and benchmarks all call from one address.
    """
    names = ("auth", "registry", "inference", "speech", "autoscaler", "gateway")
    ports = {
        name: free_port(*(GATEWAY_REPLICA_OFFSETS if name == "gateway" else SERVICE_REPLICA_OFFSETS))
        for name in names
    }
    env = {
        **(rate_limit_defaults(dict(os.environ)) if rate_limits else {**os.environ, **RATE_LIMITS_OFF}),
        "MESHSERVE_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
        **{f"MESHSERVE_{n.upper()}_PORT": str(p) for n, p in ports.items() if n != "gateway"},
        "MESHSERVE_GATEWAY_PORT": str(ports["gateway"]),
        "MESHSERVE_INFERENCE_LLM_PRELOAD": "default" if preload_llm else "",
        **(extra_env or {}),
    }
    log = (data_dir / "launcher.out").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.launcher", "up"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    mesh = Mesh(process, ports, data_dir)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"meshserve up exited: {(data_dir / 'launcher.out').read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{mesh.base_url}/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError((data_dir / "launcher.out").read_text())
            time.sleep(0.3)
        yield mesh
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextlib.contextmanager
def gateway_for(mesh: Mesh, data_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """A second gateway process in front of a mesh's services, with the gateway's default rate
    limits (fresh counters) unless ``env`` says otherwise; yields its base URL once it answers."""
    port = free_port()
    services = ("auth", "registry", "inference", "speech", "autoscaler")
    child_env = {
        **{f"MESHSERVE_{name.upper()}_ADDRESS": mesh.address(name) for name in services},
        "MESHSERVE_GATEWAY_PORT": str(port),
        "MESHSERVE_GATEWAY_RATE_LIMITS": "on",
        "MESHSERVE_GATEWAY_RATE_LIMIT_SCALE": "1",
        **(env or {}),
    }
    proc = start_service("gateway", data_dir, env=child_env, module="gateway")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # the ready line comes just before uvicorn binds
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/openapi.json", timeout=5).status_code == 200:
                    break
            assert time.monotonic() < deadline, "gateway never listened"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
