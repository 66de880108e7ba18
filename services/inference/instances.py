"""A model's instances on the workers: the Triton python-backend stub processes that hold it, what
each wrote about itself when it loaded (``runtime-<pid>.json``: device, engine, …) and the resident
memory each measures now."""

from __future__ import annotations

import contextlib
import json

import psutil

from services.inference.repository import ModelRepository


def live_instances(
    repository: ModelRepository, worker_pids: set[int], name: str
) -> list[tuple[dict, psutil.Process]]:
    """Runtime facts and live stub processes of a model's instances on the running workers."""
    instances = []
    for path in repository.runtime_facts(name):
        try:
            data = json.loads(path.read_text())
            process = psutil.Process(int(data["pid"]))
            if process.ppid() in worker_pids:
                instances.append((data, process))
        except (OSError, ValueError, KeyError, psutil.Error):
            continue
    return instances


def resident_bytes(repository: ModelRepository, worker_pids: set[int], name: str) -> int:
    """Resident memory of a model's live instances, measured now (0 when it has none)."""
    total = 0
    for _, process in live_instances(repository, worker_pids, name):
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total
