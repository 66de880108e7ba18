"""``meshserve up`` and ``meshserve status``."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import Any

from services.launcher.backing import BackingServerError, PostgresServer, RedisServer
from services.launcher.probes import grpc_serving, http_answering
from services.launcher.settings import LauncherSettings
from services.launcher.supervisor import Supervisor


def banner(settings: LauncherSettings, seconds: float) -> str:
    """The ready banner with every URL a user needs."""
    base = f"http://{settings.host}:{settings.gateway_port}"
    return "\n".join(
        [
            "",
            f"  meshserve is up ({seconds:.1f}s)",
            f"    gateway   {base}",
            f"    health    {base}/health",
            f"    docs      {base}/docs   ·   {base}/redoc   ·   {base}/openapi.json",
            f"    logs      {settings.log_dir}/",
            "  Ctrl-C stops everything.",
            "",
        ]
    )


def shared_state_problem(settings: LauncherSettings) -> str:
    """Why several replicas cannot run as configured (empty when they can): what would break."""
    counts = settings.replica_counts()
    several = sorted(name for name, count in counts.items() if count > 1)
    if not several:
        return ""
    if not (settings.redis or os.environ.get("REDIS_URL")):
        return (
            f"several replicas ({', '.join(several)}) need Redis (--redis, or REDIS_URL): without it rate "
            "limits, the response cache and Socket.IO events would each be per replica"
        )
    stateful = [n for n in several if n in ("inference", "registry")]
    if stateful and not (settings.postgres or os.environ.get("DATABASE_URL")):
        return (
            f"several replicas of {', '.join(stateful)} need PostgreSQL (--postgres, or DATABASE_URL): "
            "without it each inference replica keeps its own jobs and each registry replica its own models"
        )
    return ""


def start_backing(settings: LauncherSettings) -> list[PostgresServer | RedisServer]:
    """Starts the PostgreSQL and Redis servers asked for and points every service at them."""
    started: list[PostgresServer | RedisServer] = []
    try:
        if settings.postgres:
            postgres = PostgresServer(settings.data_dir.resolve() / "postgres", settings.postgres_port)
            os.environ["DATABASE_URL"] = postgres.start()
            started.append(postgres)
            print(f"meshserve: PostgreSQL serving at {postgres.url}", flush=True)
        if settings.redis:
            redis = RedisServer(settings.data_dir.resolve() / "redis", settings.redis_port)
            os.environ["REDIS_URL"] = redis.start()
            started.append(redis)
            print(f"meshserve: Redis serving at {redis.url}", flush=True)
    except BackingServerError:
        for server in reversed(started):
            server.stop()
        raise
    return started


async def up(settings: LauncherSettings) -> int:
    """Runs the mesh until SIGINT/SIGTERM."""
    try:
        problem = shared_state_problem(settings)
        if problem:
            raise ValueError(problem)
        backing = start_backing(settings)
    except (ValueError, BackingServerError) as error:
        print(f"meshserve: {error}", file=sys.stderr, flush=True)
        return 2
    try:
        return await run_mesh(settings)
    finally:
        for server in reversed(backing):
            server.stop()


async def run_mesh(settings: LauncherSettings) -> int:
    """Runs the mesh's processes until SIGINT/SIGTERM."""
    try:
        supervisor = Supervisor(settings)
    except ValueError as error:  # a configuration variable with a value it cannot take
        print(f"meshserve: {error}", file=sys.stderr, flush=True)
        return 2
    taken = supervisor.addresses_in_use()
    if taken:  # its processes would fail to bind, restart for ever, and its probes reach the others
        print(
            f"meshserve: already in use: {', '.join(taken)}. Is a mesh already running here "
            "(`meshserve status`)? Stop it, or give this one other ports (MESHSERVE_GATEWAY_PORT, "
            "MESHSERVE_<SERVICE>_PORT).",
            file=sys.stderr,
            flush=True,
        )
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"meshserve: starting {len(supervisor.processes)} processes (data in {settings.data_dir}/)",
        flush=True,
    )
    try:
        start = asyncio.create_task(supervisor.start_all())
        stopped = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({start, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if stopped in done:
            start.cancel()
            raise KeyboardInterrupt
        seconds = start.result()
        print(banner(settings, seconds), flush=True)
        watcher = asyncio.create_task(supervisor.watch())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({watcher, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if watcher.done():
            watcher.result()  # a crashed watcher must not leave the mesh unsupervised silently
        watcher.cancel()
    except (TimeoutError, RuntimeError) as error:
        print(f"meshserve: failed to start: {error}", file=sys.stderr, flush=True)
        await supervisor.stop_all()
        return 1
    except KeyboardInterrupt:
        pass
    print("meshserve: stopping", flush=True)
    await supervisor.stop_all()
    print("meshserve: stopped", flush=True)
    return 0


async def status(settings: LauncherSettings) -> int:
    """Prints each process, its pid and its health; exit 1 when anything is down."""
    try:
        state = json.loads(settings.state_file.read_text())
    except FileNotFoundError:
        print(f"meshserve is not running (no {settings.state_file})")
        return 1
    healthy = True
    print(f"{'process':<11} {'pid':>7}  {'address':<22} {'restarts':>8}  health")
    for name, info in state["processes"].items():
        pid = info.get("pid")
        alive = pid is not None and _alive(int(pid))
        if info["kind"] == "http":
            code = await http_answering(f"http://{info['address']}/health")
            health = f"HTTP {code}" if code else "UNREACHABLE"
            ok = code == 200
        else:
            health = await grpc_serving(info["address"])
            ok = health == "SERVING"
        healthy &= ok and alive
        print(f"{name:<11} {pid or '-':>7}  {info['address']:<22} {info['restarts']:>8}  {health}")
    return 0 if healthy else 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def main(argv: list[str]) -> int:
    """Dispatches ``up`` (with ``--replicas A=N,B=M``, ``--postgres``, ``--redis``) or ``status``."""
    parser = argparse.ArgumentParser(prog="meshserve")
    parser.add_argument("command", nargs="?", default="up", choices=("up", "status"))
    parser.add_argument("--replicas", help="replicas per process, e.g. inference=2,gateway=2")
    parser.add_argument("--postgres", action="store_true", help="start a PostgreSQL server for shared state")
    parser.add_argument("--redis", action="store_true", help="start a Redis server for shared state")
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.replicas is not None:
        overrides["replicas"] = args.replicas
    if args.postgres:
        overrides["postgres"] = True
    if args.redis:
        overrides["redis"] = True
    settings = LauncherSettings(**overrides)
    command = args.command
    if command == "up":
        return asyncio.run(up(settings))
    if command == "status":
        return asyncio.run(status(settings))
    print(f"unknown command {command!r}; use 'up' or 'status'", file=sys.stderr)
    return 2
