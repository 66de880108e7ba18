"""bench/grpc_floor.py runs end to end and prints a row per round trip; bench/processes.py's
``THIS_PROCESS`` counts the benchmark's own CPU without the processes it started."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from bench.processes import THIS_PROCESS, cpu_seconds

ROOT = Path(__file__).resolve().parents[1]


def test_the_grpc_floor_benchmark_prints_a_row_per_round_trip() -> None:
    out = subprocess.run(
        [sys.executable, "bench/grpc_floor.py", "--calls", "90"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    rows = dict(
        re.findall(
            r"^(grpc\.aio unary call|grpc\.aio stream message|asyncio TCP round trip)\s+(.+)$", out, re.M
        )
    )
    assert set(rows) == {"grpc.aio unary call", "grpc.aio stream message", "asyncio TCP round trip"}, out
    for numbers in rows.values():
        p50, p99, rate = (float(n) for n in numbers.split())
        assert 0 < p50 <= p99 and rate > 0, out


def test_this_process_counts_its_own_cpu_without_its_children() -> None:
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        before = cpu_seconds({"self": THIS_PROCESS})
        time.sleep(1.5)  # the child spins; this process sleeps
        after = cpu_seconds({"self": THIS_PROCESS})
        child_used = cpu_seconds({"child": child.pid})["child"]
    finally:
        child.kill()
        child.wait()
    assert after["self"] - before["self"] < 0.2
    assert child_used > 0.3
