"""One Triton worker: a real ``tritonserver`` process from the nvidia-pytriton wheel.

The environment is what the python backend needs on a pyenv interpreter: the python backend and the stub of this interpreter's version
are copied into a backend directory; ``LD_LIBRARY_PATH`` carries this interpreter's LIBDIR (so
the stub links pyenv's libpython, not Debian's) and ``nvidia_pytriton.libs``; this virtual
environment's ``bin/`` comes first on ``PATH`` (so the stub imports the venv's numpy). No
transport imports beyond what starting a process needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.common.children import dying_with_parent


def _package_dir(name: str) -> Path:
    """An installed package's directory, found without importing it (importing ``pytriton`` pulls in
    its HTTP client: 0.35 s of the inference service's start)."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{name} is not installed")
    return Path(spec.origin).resolve().parent


PYTRITON_DIR = _package_dir("pytriton")
TRITON_DIR = PYTRITON_DIR / "tritonserver"
TRITONSERVER = TRITON_DIR / "bin" / "tritonserver"
LIBS_DIR = PYTRITON_DIR.parent / "nvidia_pytriton.libs"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_backend_dir(root: Path) -> Path:
    """The backend directory: Triton's python backend plus this interpreter's stub."""
    target = root / "python"
    stub = TRITON_DIR / "python_backend_stubs" / f"{sys.version_info.major}.{sys.version_info.minor}"
    if not (target / "triton_python_backend_stub").exists():
        tmp = root / ".python.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(TRITON_DIR / "backends" / "python", tmp)
        shutil.copy(stub / "triton_python_backend_stub", tmp / "triton_python_backend_stub")
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    return root


def triton_environment(model_threads: int) -> dict[str, str]:
    """Environment of a tritonserver process (see the module docstring for why)."""
    env = dict(os.environ)
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    env["LD_LIBRARY_PATH"] = os.pathsep.join(
        p for p in (libdir, str(LIBS_DIR), env.get("LD_LIBRARY_PATH", "")) if p
    )
    env["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", "")))
    env["MESHSERVE_MODEL_THREADS"] = str(model_threads)
    # The stub must see the venv's packages and meshserve itself.
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and Path(p).is_dir())
    return env


@dataclass
class TritonWorker:
    """A supervised tritonserver process."""

    id: str
    repository: Path
    backend_dir: Path
    log_path: Path
    model_threads: int = 1
    host: str = "127.0.0.1"
    http_port: int = 0
    grpc_port: int = 0
    metrics_port: int = 0
    process: asyncio.subprocess.Process | None = None
    state: str = "starting"
    restarts: int = 0
    started_at: float = 0.0
    #: Triton model names loaded on this worker.
    models: set[str] = field(default_factory=set)
    device: str = "cpu"

    @property
    def grpc_address(self) -> str:
        """host:port of its KServe v2 gRPC endpoint."""
        return f"{self.host}:{self.grpc_port}"

    @property
    def http_address(self) -> str:
        """host:port of its KServe v2 HTTP endpoint."""
        return f"{self.host}:{self.http_port}"

    @property
    def pid(self) -> int:
        """Process id, 0 when not running."""
        return self.process.pid if self.process is not None else 0

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        """Starts tritonserver on fresh free ports (returns at once; see :meth:`wait_ready`)."""
        self.http_port, self.grpc_port, self.metrics_port = free_port(), free_port(), free_port()
        self.models = set()
        # Forget the dead process first: the supervisor replaces a "starting" worker whose process
        # has exited, and the spawn below awaits, so it would replace this one a second time.
        self.process = None
        self.state = "starting"
        argv = [
            str(TRITONSERVER),
            f"--model-repository={self.repository}",
            f"--backend-directory={self.backend_dir}",
            "--model-control-mode=explicit",
            f"--http-address={self.host}",
            f"--http-port={self.http_port}",
            f"--grpc-address={self.host}",
            f"--grpc-port={self.grpc_port}",
            f"--metrics-port={self.metrics_port}",
            "--allow-metrics=true",
            "--allow-gpu-metrics=false",
            "--exit-on-error=false",
            "--strict-readiness=false",
            "--log-verbose=0",
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            spawn = dying_with_parent(*argv)  # and die if this service is killed outright
            self.process = await asyncio.create_subprocess_exec(
                *spawn.argv,
                env=triton_environment(self.model_threads),
                stdout=log,
                stderr=log,
                start_new_session=True,  # kill the whole group (stubs included) on stop
                preexec_fn=spawn.preexec_fn,
            )
        finally:
            log.close()
        self.started_at = time.monotonic()

    async def wait_ready(self, timeout: float) -> None:
        """Waits until Triton answers ``/v2/health/live``; raises if it exits or times out."""
        import httpx

        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if not self.alive:
                    code = self.process.returncode if self.process else None
                    raise RuntimeError(f"tritonserver {self.id} exited with {code}; see {self.log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    reply = await client.get(f"http://{self.http_address}/v2/health/live")
                    if reply.status_code == 200:
                        self.state = "ready"
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError(f"tritonserver {self.id} not live after {timeout:.0f}s")

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to the process group, SIGKILL after the grace period."""
        self.state = "stopping"
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()

    def kill_group(self) -> None:
        """SIGKILL to what is left of the process group (stubs of a dead server)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
