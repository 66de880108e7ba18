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
