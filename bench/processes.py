"""What a benchmark reads of the processes it measures: which one listens on a port, the CPU each
used (its children included), and py-spy profiles recorded while a block runs."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil


def pid_listening_on(port: int) -> int:
    """The process listening on a local TCP port (0 when none is found)."""
    for conn in psutil.net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return int(conn.pid)
    return 0


@contextlib.contextmanager
def profiled(directory: Path | None, pids: dict[str, int], label: str) -> Iterator[None]:
    """Records py-spy profiles (collapsed stacks) of the given processes while the block runs."""
    if directory is None:
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    spies = [
        subprocess.Popen(
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(pid),
                "--rate",
                "500",
                "--format",
                "raw",  # collapsed stacks: flamegraph.pl / speedscope read them
                "--output",
                str(directory / f"{label}-{name}.txt"),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
        if pid
    ]
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(2)  # SIGINT: py-spy writes the profile and exits
        for spy in spies:
            spy.wait(30)
        print(f"  profiles written to {directory}")


#: A pid for :func:`cpu_seconds` that stands for the benchmark's own process, without the mesh it started.
THIS_PROCESS = 0


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) each process, its children included, has used so far."""
    used = {}
    for name, pid in pids.items():
        if pid == THIS_PROCESS:
            own = psutil.Process().cpu_times()
            used[name] = own.user + own.system
            continue
        total = 0.0
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            for each in [process, *process.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    times = each.cpu_times()
                    total += times.user + times.system
        used[name] = total
    return used
