"""Where a fine-tuning run's training process runs.

Both drivers run :mod:`services.inference.finetune.worker` with a spec file and an output folder,
and hand back its JSON progress lines as they come; the run (:mod:`.runs`) is the same either way.

- :class:`LocalDriver` (the default): a child process of the inference service, in a temporary
  folder; it dies with the service.
- :class:`~services.inference.finetune.kubernetes.KubernetesDriver`: a ``batch/v1`` Job from the
  manifest template under ``deploy/k8s/training``, on a volume the inference pods share with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any, Protocol

from services.common.children import dying_with_parent

WORKER = ("-m", "services.inference.finetune.worker")


class TrainingDriver(Protocol):
    """Starts a worker and follows it."""

    name: str
    #: Where the worker keeps GGUF bases converted for training, for later runs (None: nowhere).
    base_cache: Path | None

    def folder(self, run_id: str) -> Path:
        """A new folder for the run's spec and output (readable by this service)."""
        ...

    def events(self, run_id: str, folder: Path) -> AsyncGenerator[dict[str, Any], None]:
        """Starts the worker on ``folder/spec.json`` and yields its events until it exits; raises
        RuntimeError when it failed without saying why. Closing it early stops the worker."""
        ...

    def release(self, folder: Path) -> None:
        """Removes the run's folder."""
        ...

    def stage(self, source: Path, folder: Path) -> Path:
        """The base model's weights where the worker can read them."""
        ...


def worker_lines(line: bytes | str) -> dict[str, Any] | None:
    """One worker event, or None for anything else it printed."""
    with contextlib.suppress(ValueError):
        event = json.loads(line)
        if isinstance(event, dict) and "event" in event:
            return event
    return None


def last_line(path: Path, limit: int = 500) -> str:
    """The last non-empty line of a file (at most ``limit`` characters), or ""."""
    with contextlib.suppress(OSError):
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 8192))
            lines = [line.strip() for line in handle.read().decode(errors="replace").splitlines()]
            return next((line for line in reversed(lines) if line), "")[-limit:]
    return ""


def exit_message(event: dict[str, Any]) -> str:
    """Why a worker that ended without an error line of its own failed: the signal that killed it
    (SIGKILL: most often the kernel's out-of-memory killer), or its exit code and last words."""
    code = int(event["code"])
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"the training process was killed by {signal.Signals(-code).name}"
    said = f": {event['stderr']}" if event.get("stderr") else ""
    return f"the training process exited with code {code}{said}"


class LocalDriver:
    """The worker as a child process of this service."""

    name = "local"

    def __init__(self, base_cache: Path | None = None) -> None:
        self.base_cache = base_cache

    def folder(self, run_id: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"meshserve-{run_id}-"))

    def release(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    def stage(self, source: Path, folder: Path) -> Path:
        return source  # the worker runs on this machine

    async def events(self, run_id: str, folder: Path) -> AsyncGenerator[dict[str, Any], None]:
        spawn = dying_with_parent(sys.executable, *WORKER, str(folder / "spec.json"), str(folder))
        errors = folder / "worker.stderr"
        with errors.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                *spawn.argv, stdout=asyncio.subprocess.PIPE, stderr=stderr, preexec_fn=spawn.preexec_fn
            )
        assert process.stdout is not None
        try:
            async for line in process.stdout:
                event = worker_lines(line)
                if event is not None:
                    yield event
            code = await process.wait()
        finally:
            if process.returncode is None:  # closed early (cancelled): stop the worker
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if code != 0:  # died without an error line of its own: what it last wrote says why
            yield {"event": "exit", "code": code, "stderr": last_line(errors)}
