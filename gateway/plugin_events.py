"""004 §7's plugin events, found by comparing two looks at the inference service's plugin list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshserve.v1 import inference_pb2 as ipb


@dataclass(frozen=True)
class PluginSeen:
    """What one period saw of a plugin."""

    status: int
    failures: int
    loaded_at: float
    reason: str
    name: str
    version: str

    @classmethod
    def of(cls, plugin: ipb.Plugin) -> PluginSeen:
        """The facts of a Plugin message that events are made of."""
        return cls(
            plugin.status,
            plugin.failures,
            plugin.loaded_at,
            plugin.status_reason,
            plugin.name,
            plugin.version,
        )


def plugin_changes(
    plugin_id: str, before: PluginSeen | None, now: PluginSeen
) -> list[tuple[str, dict[str, Any]]]:
    """The 004 §7 plugin events between two looks at one plugin."""
    events: list[tuple[str, dict[str, Any]]] = []
    loaded = ipb.PLUGIN_STATUS_LOADED
    base = {"plugin_id": plugin_id, "name": now.name, "version": now.version}
    was_loaded = before is not None and before.status == loaded
    if now.status == loaded and (
        not was_loaded or (before is not None and before.loaded_at != now.loaded_at)
    ):
        events.append(("plugin_loaded", {**base, "loaded_at": now.loaded_at}))
    if was_loaded and now.status == ipb.PLUGIN_STATUS_AVAILABLE:
        events.append(("plugin_unloaded", base))
    if now.status == ipb.PLUGIN_STATUS_FAILED and (before is None or before.status != now.status):
        events.append(("plugin_error", {**base, "error": now.reason or "the plugin failed to load"}))
    new_failures = now.failures - (
        before.failures if before is not None and now.loaded_at == before.loaded_at else 0
    )
    if now.status == loaded and new_failures > 0 and was_loaded:
        events.append(
            ("plugin_error", {**base, "error": f"{new_failures} run(s) failed", "failures": now.failures})
        )
    return events
