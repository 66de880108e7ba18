"""A loaded plugin's configuration as stored for every replica (no transport, no plugin code)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PluginConfig:
    """Whether a loaded plugin runs, its place in the order, and its validated settings."""

    enabled: bool
    priority: int
    settings: dict[str, Any]
