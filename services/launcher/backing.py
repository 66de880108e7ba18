"""Real PostgreSQL and Redis servers for the local multi-replica mode (``meshserve up --postgres
--redis``), started from the installed packages (``make system-deps`` installs Debian's
``postgresql`` and ``redis-server``) with their state under the data directory, and stopped with
the mesh. Nothing here is a stand-in: the services talk to these servers exactly as they would to
a managed database and cache.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


class BackingServerError(RuntimeError):
    """A server that is not installed or did not start; the message says what to do."""


def postgres_bin() -> Path | None:
    """The directory holding initdb and pg_ctl (PATH first, then Debian's versioned layout)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def port_open(host: str, port: int) -> bool:
    """Whether something accepts connections on host:port."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in ``root`` listening on ``port`` (initialised on first use)."""

    root: Path
    port: int
    host: str = "127.0.0.1"
    _bin: Path = field(init=False)

    @property
    def url(self) -> str:
        """postgresql://… of the cluster's ``postgres`` database, user ``meshserve`` (trust auth on loopback)."""
        return f"postgresql://meshserve@{self.host}:{self.port}/postgres"

    def start(self) -> str:
        """Initialises the cluster when new, starts it, waits until it accepts; returns its URL."""
        found = postgres_bin()
        if found is None:
            raise BackingServerError(
                "--postgres needs PostgreSQL's server (initdb, pg_ctl): apt-get install -y postgresql "
                "(make system-deps does it as root), or set DATABASE_URL to a server of your own"
            )
        self._bin = found
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        data = self.root / "data"
        if not (data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(data), "-U", "meshserve", "--auth=trust", "-E", "UTF8")
        options = f"-p {self.port} -k {self.root} -c listen_addresses={self.host} -c max_connections=200"
        self._run(
            "pg_ctl", "-D", str(data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start"
        )
        return self.url

    def stop(self) -> None:
        """Stops the cluster (its data stays for the next start)."""
        with contextlib.suppress(BackingServerError):
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "fast", "-w", "stop")

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(_as_postgres([str(self._bin / tool), *args]), capture_output=True, text=True)
        if done.returncode != 0:
            raise BackingServerError(f"{tool} failed: {(done.stderr or done.stdout).strip()[-500:]}")


@dataclass
class RedisServer:
    """A redis-server on ``port`` with its dump in ``root``."""

    root: Path
    port: int
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """redis://… of database 0."""
        return f"redis://{self.host}:{self.port}/0"

    def start(self, timeout: float = 10.0) -> str:
        """Starts the server and waits until it accepts; returns its URL."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise BackingServerError(
                "--redis needs redis-server: apt-get install -y redis-server (make system-deps does it "
                "as root), or set REDIS_URL to a server of your own"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        log = (self.root / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                self.host,
                "--dir",
                str(self.root),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not port_open(self.host, self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise BackingServerError(f"redis-server did not start; see {self.root / 'server.log'}")
            time.sleep(0.05)
        return self.url

    def stop(self) -> None:
        """Stops the server."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
