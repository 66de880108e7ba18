"""Child processes that die with their parent.

A service killed with SIGKILL cannot stop what it started: its Triton workers (each holding its
models' memory) would live on beside the ones its restarted self starts. Linux's
``PR_SET_PDEATHSIG`` has the kernel send the child SIGKILL when its parent dies, however it dies.
Elsewhere this does nothing: the graceful stop paths still end every child.

:func:`dying_with_parent` sets it with util-linux's ``setpriv --pdeathsig KILL``, which then execs
the command, so no Python runs in the forked child. A ``preexec_fn`` (:func:`die_with_parent`, the
fallback where setpriv is missing or too old) runs Python between fork and exec, which Python's
documentation calls unsafe in a process with threads (every gRPC process has them), and which
uvloop can only do through a fork hook.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: prctl(2) option: the signal the calling process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess``/``asyncio`` spawns that ties the child's life to this
    process (None where the platform has no such call)."""
    if sys.platform != "linux":
        return None
    parent = os.getpid()

    def in_child() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return  # not fatal: the stop paths still end the child
        if os.getppid() != parent:  # the parent died before the call took effect
            os._exit(1)

    return in_child


@dataclass(frozen=True)
class Spawn:
    """How to start a command: the argv to execute and the ``preexec_fn`` to pass (None: none)."""

    argv: list[str]
    preexec_fn: Callable[[], None] | None


def dying_with_parent(*argv: str) -> Spawn:
    """How to start ``argv`` so that it dies with this process: under ``setpriv --pdeathsig KILL``
    where util-linux's setpriv knows the option, else with :func:`die_with_parent`. (setpriv does
    not check, as the latter does, whether the parent already died in the microseconds before.)"""
    setpriv = _setpriv()
    if setpriv is None:
        return Spawn(list(argv), die_with_parent())
    return Spawn([setpriv, "--pdeathsig", "KILL", "--", *argv], None)


@functools.cache
def _setpriv() -> str | None:
    """setpriv's path where it knows ``--pdeathsig`` (util-linux 2.33 and later) on Linux."""
    path = shutil.which("setpriv")
    if sys.platform != "linux" or path is None:
        return None
    try:
        usage = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return path if "--pdeathsig" in usage else None


def exit_when_orphaned(interval: float = 1.0) -> threading.Thread:
    """Ends this process as soon as its parent is gone (it was re-parented), checking every
    ``interval`` seconds in a daemon thread.

    For processes that meshserve does not spawn itself, such as the python-backend stubs that
    ``tritonserver`` forks: when a worker is killed outright, a stub busy generating would otherwise
    live on, holding its model's memory. (``PR_SET_PDEATHSIG`` is not used there: it fires when the
    *thread* that forked the process ends, and tritonserver forks from threads it may retire.)
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)

    thread = threading.Thread(target=watch, name="exit-when-orphaned", daemon=True)
    thread.start()
    return thread
