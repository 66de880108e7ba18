"""Child processes that die with their parent.

A service killed with SIGKILL cannot stop what it started: its Triton workers (each holding its
models' memory) would live on beside the ones its restarted self starts. Linux's
``PR_SET_PDEATHSIG`` has the kernel send the child SIGKILL when its parent dies, however it dies.
Elsewhere this does nothing: the graceful stop paths still end every child.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

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
