"""Children started with :func:`services.common.children.dying_with_parent` die when their parent
is killed outright, and run as themselves (setpriv execs them: same pid, their own name)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from services.common.children import dying_with_parent

ROOT = Path(__file__).resolve().parents[1]

PARENT = """
import subprocess, sys, time
from services.common.children import dying_with_parent
spawn = dying_with_parent("sleep", "120")
child = subprocess.Popen(spawn.argv, preexec_fn=spawn.preexec_fn)
print(child.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_a_child_dies_with_its_parent_killed_outright() -> None:
    assert dying_with_parent("true").preexec_fn is None, (
        "util-linux's setpriv does it, no Python in the child"
    )
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = psutil.Process(int(parent.stdout.readline()))
        deadline = time.monotonic() + 10
        while child.name() != "sleep":  # setpriv execs the command in the same process
            assert time.monotonic() < deadline, child.name()
            time.sleep(0.01)
        assert child.ppid() == parent.pid
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        child.wait(10)  # psutil.TimeoutExpired if it outlived its parent
    finally:
        parent.kill()
        parent.wait()


def test_children_started_under_grpc_load_all_reach_exec() -> None:
    """gRPC's fork handlers are off in every service (``services/__init__.py``): with them on, a
    fork while other threads are inside gRPC logs "skipping fork() handlers" (hundreds of times a
    second here) and, now and then, deadlocks or aborts the child before it execs."""
    run = subprocess.run(
        [sys.executable, "-m", "tests.fork_under_load", "8"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "GRPC_ENABLE_FORK_SUPPORT"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    outcome = json.loads(run.stdout.splitlines()[-1])
    assert outcome["spawned"] > 100 and outcome["failed"] == outcome["hung"] == 0, outcome
    assert "fork() handlers" not in run.stderr, run.stderr[-2000:]
