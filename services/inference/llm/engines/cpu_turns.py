"""Language-model engines on one machine's CPU take turns on its cores, one decode at a time.

llama.cpp runs a decode on ``threads`` threads, and they spin between steps. Two engines that each
use every core then fight for them. Measured on the 2-core build machine with the bundled
SmolLM2-135M GGUF (``bench/cpu_turns.py``, each engine its own process): one engine alone decoded
105-118 tokens/s; two at once made 7.8 to 27.6 tokens/s each, varying from run to run with how
their spinning threads interleave; taking turns through this lock, held around each
``llama_decode``, 35-41 each in every run, while a lone engine keeps its speed. OpenMP's passive
wait policy instead cost a lone engine three quarters of its speed.

The lock is an advisory file lock (``flock``) on one path per machine or container, so the engines
of separate Triton model instances share it, and a process that dies lets it go. Uncontended, a
turn costs two system calls per step.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: The lock every engine on this machine's CPU takes a turn on.
DEFAULT_PATH = Path(tempfile.gettempdir()) / "meshserve-llm-cpu-turns.lock"


class CpuTurns:
    """Turns on the CPU's cores, shared by every engine using ``path``; none when ``path`` is None."""

    def __init__(self, path: Path | None = DEFAULT_PATH) -> None:
        self._fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o666) if path is not None else None

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """Holds the cores for the block (waiting for another engine's step to end)."""
        if self._fd is None:
            yield
            return
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Closes the lock file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
