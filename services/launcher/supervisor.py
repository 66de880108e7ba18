"""Starts every process of the mesh, restarts the ones that die, stops them all on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.common.children import dying_with_parent
from services.common.settings import SERVICE_NAMES
from services.launcher.probes import grpc_serving, http_answering, port_taken
from services.launcher.settings import LauncherSettings

PROCESS_NAMES: tuple[str, ...] = (*SERVICE_NAMES, "gateway")


@dataclass
class ManagedProcess:
    """One supervised child process."""

    name: str
    argv: list[str]
    address: str
    log_path: Path
    process: asyncio.subprocess.Process | None = None
    env: dict[str, str] = field(default_factory=dict)  # this process's own settings (its replica's port)
    restarts: int = 0
    started_at: float = 0.0
    backoff: float = 0.5
    ready: bool = False

    @property
    def is_gateway(self) -> bool:
        """Whether this is the HTTP gateway rather than a gRPC service."""
        return self.name.split("-")[0] == "gateway"

    async def probe(self) -> bool:
        """Whether the process answers its health check."""
        if self.is_gateway:
            return await http_answering(f"http://{self.address}/openapi.json") == 200
        return await grpc_serving(self.address) == "SERVING"


#: Document 001's plain configuration variables and the mesh settings each one sets (when the mesh
#: setting is not given itself).
PLAIN_VARIABLES: dict[str, tuple[str, ...]] = {
    "DEVICE": ("MESHSERVE_INFERENCE_DEFAULT_DEVICE", "MESHSERVE_INFERENCE_LLM_DEVICE"),
    "BATCH_SIZE": ("MESHSERVE_INFERENCE_MAX_BATCH_SIZE",),
    "LOG_LEVEL": tuple(f"MESHSERVE_{name.upper()}_LOG_LEVEL" for name in (*SERVICE_NAMES, "gateway")),
}
DEVICES = ("auto", "cpu", "cuda")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def plain_variables(environ: dict[str, str]) -> dict[str, str]:
    """The mesh settings document 001's ``DEVICE``, ``BATCH_SIZE`` and ``LOG_LEVEL`` give; a value
    none of them takes is refused (ValueError naming it) rather than ignored."""
    checks = {
        "DEVICE": lambda v: v.lower() in DEVICES,
        "BATCH_SIZE": lambda v: v.isdigit(),
        "LOG_LEVEL": lambda v: v.upper() in LOG_LEVELS,
    }
    allowed = {
        "DEVICE": ", ".join(DEVICES),
        "BATCH_SIZE": "a whole number",
        "LOG_LEVEL": ", ".join(LOG_LEVELS),
    }
    derived: dict[str, str] = {}
    for plain, targets in PLAIN_VARIABLES.items():
        value = environ.get(plain, "").strip()
        if not value:
            continue
        if not checks[plain](value):
            raise ValueError(f"{plain}={value!r} is not valid: use {allowed[plain]}")
        value = value.upper() if plain == "LOG_LEVEL" else value.lower()
        for target in targets:
            if target not in environ:
                derived[target] = value
    return derived


def mesh_environment(settings: LauncherSettings) -> dict[str, str]:
    """Environment every child gets: static discovery, ports, data directory, and what document
    001's plain variables say."""
    env = dict(os.environ)
    env.update(plain_variables(env))
    counts = settings.replica_counts()
    for name in SERVICE_NAMES:
        upper = name.upper()
        # Static discovery: every replica's address, comma-separated (clients balance round robin).
        env[f"MESHSERVE_{upper}_ADDRESS"] = ",".join(
            f"{settings.host}:{settings.replica_port(name, r)}" for r in range(1, counts[name] + 1)
        )
        env[f"MESHSERVE_{upper}_PORT"] = str(settings.port_of(name))
        env[f"MESHSERVE_{upper}_HOST"] = settings.host
        env.setdefault(f"MESHSERVE_{upper}_DATA_DIR", str(settings.data_dir.resolve()))
    env["MESHSERVE_GATEWAY_PORT"] = str(settings.gateway_port)
    env["MESHSERVE_GATEWAY_HOST"] = settings.host
    env["MESHSERVE_LOG_DIR"] = str(settings.log_dir.resolve())
    env["PYTHONUNBUFFERED"] = "1"
    return env


def replica_environment(settings: LauncherSettings, name: str, replica: int, port: int) -> dict[str, str]:
    """What one replica sets apart from the rest: its port, and (inference, beyond the first) a data
    directory of its own for its Triton repository and worker state. Registry replicas share the
    blob directory, auth replicas their SQLite file (WAL allows several processes on one host)."""
    if replica == 1:
        return {}
    env = {f"MESHSERVE_{name.upper()}_PORT": str(port)}
    if name == "inference":
        env["MESHSERVE_INFERENCE_DATA_DIR"] = str(
            (settings.data_dir / "replicas" / f"{name}-{replica}").resolve()
        )
    return env


@dataclass
class Supervisor:
    """Runs the mesh until told to stop."""

    settings: LauncherSettings
    say: Callable[[str], None] = print
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    _stopping: bool = False

    def __post_init__(self) -> None:
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        counts = self.settings.replica_counts()
        for name in PROCESS_NAMES:
            module = "gateway" if name == "gateway" else f"services.{name}"
            for replica in range(1, counts[name] + 1):
                label = name if replica == 1 else f"{name}-{replica}"
                port = self.settings.replica_port(name, replica)
                self.processes[label] = ManagedProcess(
                    name=label,
                    argv=[sys.executable, "-m", module],
                    address=f"{self.settings.host}:{port}",
                    log_path=self.settings.log_dir / f"{label}.log",
                    env=replica_environment(self.settings, name, replica, port),
                )
        self.env = mesh_environment(self.settings)

    def addresses_in_use(self) -> list[str]:
        """``"<process> on <host:port>"`` for each address of the mesh that something else listens on."""
        taken = []
        for name, managed in self.processes.items():
            host, _, port = managed.address.rpartition(":")
            if port_taken(host, int(port)):
                taken.append(f"{name} on {managed.address}")
        return taken

    async def spawn(self, managed: ManagedProcess) -> None:
        """Starts one child with its output appended to its log file."""
        log_file = managed.log_path.open("ab")
        spawn = dying_with_parent(*managed.argv)  # no service outlives a launcher killed outright
        managed.process = await asyncio.create_subprocess_exec(
            *spawn.argv,
            env={**self.env, **managed.env},
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
            preexec_fn=spawn.preexec_fn,
        )
        log_file.close()
        managed.started_at = time.monotonic()
        managed.ready = False
        self.write_state()

    async def start_all(self) -> float:
        """Starts every process and waits until each serves; returns the seconds it took."""
        started = time.monotonic()
        for managed in self.processes.values():
            await self.spawn(managed)
        pending = set(self.processes)
        total = len(self.processes)
        deadline = started + self.settings.startup_timeout_seconds
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"not serving after {self.settings.startup_timeout_seconds:.0f}s: {sorted(pending)}"
                )
            for name in sorted(pending):
                managed = self.processes[name]
                if managed.process is not None and managed.process.returncode is not None:
                    raise RuntimeError(
                        f"{name} exited with {managed.process.returncode}; see {managed.log_path}"
                    )
                if await managed.probe():
                    managed.ready = True
                    pending.discard(name)
                    done = total - len(pending)
                    self.say(
                        f"  [{done}/{total}] {name:<10} serving on {managed.address}"
                        f"  ({time.monotonic() - started:.1f}s)"
                    )
            await asyncio.sleep(0.2)
        self.write_state()
        return time.monotonic() - started

    async def watch(self) -> None:
        """Restarts any process that exits, with exponential backoff."""
        while not self._stopping:
            for managed in self.processes.values():
                process = managed.process
                if process is None or process.returncode is None:
                    if managed.ready is False and process is not None and await managed.probe():
                        managed.ready = True
                        self.say(f"  {managed.name} is serving again (restart {managed.restarts})")
                    if managed.ready and time.monotonic() - managed.started_at > 30:
                        managed.backoff = 0.5
                    continue
                if self._stopping:
                    return
                self.say(
                    f"  {managed.name} exited with code {process.returncode}; "
                    f"restarting in {managed.backoff:.1f}s (see {managed.log_path})"
                )
                await asyncio.sleep(managed.backoff)
                managed.backoff = min(managed.backoff * 2, self.settings.restart_backoff_max_seconds)
                managed.restarts += 1
                if not self._stopping:
                    await self.spawn(managed)
            await asyncio.sleep(0.1)

    async def stop_all(self, grace: float = 15.0) -> None:
        """SIGTERM to every child, SIGKILL to those still alive after the grace period."""
        self._stopping = True
        running = [
            (m.name, m.process) for m in self.processes.values() if m.process and m.process.returncode is None
        ]
        for _, process in running:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        for name, process in running:
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
            self.say(f"  stopped {name} (exit {process.returncode})")
        with contextlib.suppress(FileNotFoundError):
            self.settings.state_file.unlink()

    def write_state(self) -> None:
        """Records pids and addresses for ``meshserve status``."""
        state = {
            "launcher_pid": os.getpid(),
            "processes": {
                m.name: {
                    "pid": m.process.pid if m.process else None,
                    "address": m.address,
                    "kind": "http" if m.is_gateway else "grpc",
                    "restarts": m.restarts,
                    "log": str(m.log_path),
                }
                for m in self.processes.values()
            },
        }
        self.settings.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.settings.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.settings.state_file)
