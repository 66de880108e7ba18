"""Real PostgreSQL and Redis servers for the tests, started from the installed packages on free
ports and removed afterwards.

``make test`` installs both (``make system-deps``) wherever it can: as root with apt. There a
missing server is a failure, never a skip; elsewhere a test that needs one is skipped with the
command that would install it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.procs import free_port


def _installable() -> bool:
    """Whether ``make system-deps`` installs missing servers here (so their absence is a bug)."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def _missing(what: str, package: str) -> None:
    message = f"{what} is not installed: apt-get install -y {package} (make system-deps does it as root)"
    if _installable():
        pytest.fail(message)
    pytest.skip(message)


def pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl (PATH first, then Debian's versioned layout)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _as_owner(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


#: The clusters started by :func:`postgres_server`: URL -> (bindir, data, options, log file).
_clusters: dict[str, tuple[Path, Path, str, Path]] = {}


def _pg_ctl(url: str, *action: str) -> None:
    bindir, data, options, log = _clusters[url.rsplit("/", 1)[0] + "/postgres"]
    argv = [str(bindir / "pg_ctl"), "-D", str(data), "-w", *action]
    if action[0] == "start":
        argv += ["-o", options, "-l", str(log)]
    subprocess.run(_as_owner(argv), check=True, capture_output=True)


def stop_postgres(url: str) -> None:
    """Stops the cluster at ``url`` (started by :func:`postgres_server`) the hard way, as a crash or
    a failover does: every connection is dropped at once."""
    _pg_ctl(url, "stop", "-m", "immediate")


def start_postgres(url: str) -> None:
    """Starts the stopped cluster at ``url`` again on the same data and port."""
    _pg_ctl(url, "start")


@contextlib.contextmanager
def postgres_server(port: int = 0) -> Iterator[str]:
    """postgresql://… of a throwaway cluster on ``port`` (a free one by default)."""
    bindir = pg_bin()
    if bindir is None:
        _missing("PostgreSQL (initdb, pg_ctl)", "postgresql")
    assert bindir is not None
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    # Not under pytest's tmp_path: the server's user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="meshserve-pg-"))
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, port = root / "data", port or free_port()
    subprocess.run(
        _as_owner([str(bindir / "initdb"), "-D", str(data), "-U", "meshserve", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        _as_owner(
            [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    url = f"postgresql://meshserve@127.0.0.1:{port}/postgres"
    _clusters[url] = (bindir, data, options, root / "log")
    try:
        yield url
    finally:
        _clusters.pop(url, None)
        subprocess.run(
            _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(url: str) -> str:
    """A new empty database on the server at ``url``; its URL (tests stay independent)."""
    import psycopg

    name = f"t{os.getpid()}_{time.time_ns()}"
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """redis://… of a throwaway redis-server on a free port."""
    binary = shutil.which("redis-server")
    if binary is None:
        _missing("redis-server", "redis-server")
    assert binary is not None
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
