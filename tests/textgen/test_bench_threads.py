"""bench/threads.py runs end to end (tiny sizes): every thread configuration at both loads and both
stream counts, each row with its ratio to the best fixed count."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.procs import ROOT

pytestmark = pytest.mark.slow


def test_threads_bench_prints_every_configuration_under_both_loads() -> None:
    done = subprocess.run(
        [sys.executable, "bench/threads.py", "--tokens", "8", "--rounds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [
        line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("| ") and "x |" in line
    ]
    cells = [[cell.strip() for cell in row] for row in rows]
    assert [(c[0], c[1]) for c in cells[::3]] == [
        ("alone", "1"),
        ("alone", "4"),
        ("beside a busy process", "1"),
        ("beside a busy process", "4"),
    ]
    assert len(cells) == 12
    names = [c[2] for c in cells[:3]]
    assert names[0].endswith("threads") and names[1].endswith(("thread", "threads"))
    assert names[2].startswith("adaptive (")
    assert all([c[2] for c in cells[i : i + 3]] == names for i in range(0, 12, 3))
    assert all(float(c[3]) > 0 for c in cells)
    for group in range(0, 12, 3):
        fixed = [float(c[5].rstrip("x")) for c in cells[group : group + 2]]
        assert max(fixed) == 1.0  # the best fixed count is the reference of its load and streams
