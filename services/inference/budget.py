"""The memory budget of loaded models: which idle models to unload so that another one fits.

Models are loaded on demand (a request for any registered model loads it). With a budget
(``MESHSERVE_INFERENCE_MEMORY_BUDGET_MB``), a load first makes room: the resident memory of every
loaded model, as measured on the workers now, plus what the new instances will need must stay
within the budget, so the least recently used idle models are unloaded first. A model busy with a
request is never unloaded under it; a model that cannot fit even alone, or only by unloading busy
ones, is refused with INSUFFICIENT_MEMORY naming the budget and the need.

What a model needs is what its instance measured after its last load; before its first load, the
estimate its registrant gave (for a language model: weights, KV cache and the worker's runtime),
so that the budget holds from the first load on. No transport imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psutil

from services.common.errors import InsufficientMemory, InvalidInput

MB = 2**20


@dataclass(frozen=True)
class Resident:
    """A loaded model as the budget sees it."""

    name: str
    #: Resident bytes of its instances now.
    bytes: int
    #: When a request last used it (monotonic seconds).
    last_used: float
    #: Whether a request is running on it, or it is being changed (never unloaded then).
    busy: bool


def plan_room(budget: int, name: str, need: int, loaded: list[Resident]) -> list[str]:
    """The models to unload, least recently used first, so that ``need`` more bytes fit.

    Raises INSUFFICIENT_MEMORY when even unloading every idle model would not make room.
    """
    used = sum(r.bytes for r in loaded if r.name != name)
    if used + need <= budget:
        return []
    if need > budget:
        raise InsufficientMemory(
            f"model {name!r} needs {need / MB:.0f} MB, more than the whole memory budget of {budget / MB:.0f} MB",
            details={"model": name, "budget_bytes": budget, "required_bytes": need},
            suggestion="raise MESHSERVE_INFERENCE_MEMORY_BUDGET_MB, or load a smaller (more quantized) model",
        )
    victims: list[str] = []
    for resident in sorted((r for r in loaded if r.name != name and not r.busy), key=lambda r: r.last_used):
        victims.append(resident.name)
        used -= resident.bytes
        if used + need <= budget:
            return victims
    raise InsufficientMemory(
        f"model {name!r} needs {need / MB:.0f} MB; the budget of {budget / MB:.0f} MB holds "
        f"{used / MB:.0f} MB of models busy with requests",
        details={"model": name, "budget_bytes": budget, "required_bytes": need, "busy_bytes": used},
        suggestion="retry when the running requests finish, or raise MESHSERVE_INFERENCE_MEMORY_BUDGET_MB",
    )


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}


def parse_memory(text: str, field: str) -> int:
    """Bytes from ``"12GB"``, ``"512MiB"``, ``"1000000"`` or ``"80%"`` (of this machine's memory)."""
    value = text.strip().lower().replace(" ", "")
    if value.endswith("%"):
        try:
            share = float(value[:-1])
        except ValueError:
            share = -1.0
        if not 0 < share <= 100:
            raise InvalidInput(f"{field} {text!r} must be a share from 0 to 100%", details={"field": field})
        return int(psutil.virtual_memory().total * share / 100)
    found = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([a-z]*)", value)
    if found is None or found.group(2) not in _UNITS or float(found.group(1)) <= 0:
        raise InvalidInput(
            f"{field} {text!r} is not a memory size",
            details={"field": field, "provided": text},
            suggestion='write it like "2GB", "512MiB" or "80%"',
        )
    return int(float(found.group(1)) * _UNITS[found.group(2)])
