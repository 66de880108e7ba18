"""Plugin state of the inference service: which plugins are loaded, with what configuration.

The stages live in this process (the data plane owns them); their configuration is recorded in the
inference store, so a restarted replica, and every other replica, applies the same. Every change builds a new plugin instance and swaps it in whole, so a generation
already running keeps the stages it started with (:meth:`PluginManager.pipeline` is a snapshot).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from typing import Any, Protocol

from pydantic import ValidationError

from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidInput,
    MeshError,
    PluginLoadFailed,
    PluginNotFound,
)
from services.inference.plugins.base import Category, Plugin
from services.inference.plugins.config import PluginConfig
from services.inference.plugins.discovery import Discovered, discover
from services.inference.plugins.pipeline import Pipeline, Usage

log = logging.getLogger("meshserve.inference.plugins")


@dataclass(frozen=True)
class ConfigChange:
    """A requested configuration: ``None`` keeps the current value (or the default on load)."""

    enabled: bool | None = None
    priority: int | None = None
    settings: Mapping[str, Any] | None = None

    @classmethod
    def parse_settings(cls, raw: str) -> dict[str, Any]:
        """Settings from their JSON text; InvalidInput unless it is a JSON object."""
        try:
            value = json.loads(raw) if raw.strip() else {}
        except ValueError as error:
            raise InvalidInput(
                f"config.settings is not valid JSON: {error}", details={"field": "config.settings"}
            ) from None
        if not isinstance(value, dict):
            raise InvalidInput("config.settings must be an object", details={"field": "config.settings"})
        return value


@dataclass
class Loaded:
    """A loaded plugin: its configured instance and configuration."""

    instance: Plugin
    enabled: bool
    priority: int
    settings: dict[str, Any]
    loaded_at: float
    load_seconds: float
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class PluginView:
    """A plugin as listed: what was discovered and, when loaded, its state."""

    found: Discovered
    loaded: Loaded | None

    @property
    def status(self) -> str:
        """available, loaded or failed."""
        if self.found.plugin is None:
            return "failed"
        return "loaded" if self.loaded else "available"


class ConfigStore(Protocol):
    """Where loaded plugins' configurations are recorded for every replica (the inference store)."""

    def plugin_configs(self) -> dict[str, PluginConfig]:
        """Every recorded configuration."""
        ...

    def save_plugin(self, plugin_id: str, config: PluginConfig, now: float) -> None:
        """Records one."""
        ...

    def delete_plugin(self, plugin_id: str) -> None:
        """Forgets one."""
        ...


class PluginManager:
    """Discovers plugins once and loads, configures and unloads them on request.

    With a ``store``, every change is recorded there, and :meth:`sync` applies what the store holds
    (changes made through another replica, or before a restart); usage counters stay per replica.
    """

    def __init__(
        self, extra_entry_points: Iterable[EntryPoint] | None = None, store: ConfigStore | None = None
    ) -> None:
        self.found = discover(extra_entry_points)
        self.loaded: dict[str, Loaded] = {}
        self.store = store
        self._pipeline = Pipeline(())

    def sync(self) -> None:
        """Makes the loaded plugins those the store records, with their configuration."""
        if self.store is not None:
            self.apply(self.store.plugin_configs())

    def apply(self, configs: Mapping[str, PluginConfig]) -> None:
        """Makes the loaded plugins those of ``configs`` (read from the store)."""
        changed = False
        for plugin_id in [p for p in self.loaded if p not in configs]:
            del self.loaded[plugin_id]
            changed = True
        for plugin_id, config in configs.items():
            found = self.found.get(plugin_id)
            current = self.loaded.get(plugin_id)
            if found is None or found.plugin is None:
                continue  # not installed on this replica: its list shows it as missing or failed
            if current is not None and _config_of(current) == config:
                continue
            try:
                self.loaded[plugin_id] = self._build(
                    found.plugin,
                    enabled=config.enabled,
                    priority=config.priority,
                    settings=config.settings,
                    usage=current.usage if current else Usage(),
                )
            except MeshError as error:
                log.warning(
                    "plugin configuration not applied", extra={"plugin_id": plugin_id, "error": str(error)}
                )
                continue
            changed = True
        if changed:
            self._rebuild()

    def _record(self, plugin_id: str) -> None:
        if self.store is None:
            return
        loaded = self.loaded.get(plugin_id)
        if loaded is None:
            self.store.delete_plugin(plugin_id)
        else:
            self.store.save_plugin(plugin_id, _config_of(loaded), time.time())

    def list(self) -> list[PluginView]:
        """Every discovered plugin, by id."""
        return [PluginView(self.found[pid], self.loaded.get(pid)) for pid in sorted(self.found)]

    def view(self, plugin_id: str) -> PluginView:
        """One plugin; PluginNotFound when no plugin has that id."""
        return PluginView(self._found(plugin_id), self.loaded.get(plugin_id))

    def load(self, plugin_id: str, change: ConfigChange) -> PluginView:
        """Loads a plugin with a configuration (defaults: enabled, priority 0, no settings)."""
        found = self._found(plugin_id)
        if plugin_id in self.loaded:
            raise AlreadyExists(
                f"plugin {plugin_id!r} is already loaded",
                details={"plugin_id": plugin_id},
                suggestion="change its configuration instead, or unload it first",
            )
        if found.plugin is None:
            raise PluginLoadFailed(
                f"plugin {plugin_id!r} cannot be loaded: {found.error}",
                details={"plugin_id": plugin_id, "source": found.source},
            )
        self.loaded[plugin_id] = self._build(
            found.plugin,
            enabled=True if change.enabled is None else change.enabled,
            priority=0 if change.priority is None else change.priority,
            settings=dict(change.settings or {}),
            usage=Usage(),
        )
        self._rebuild()
        self._record(plugin_id)
        return self.view(plugin_id)

    def configure(self, plugin_id: str, change: ConfigChange) -> PluginView:
        """Changes a loaded plugin's configuration; settings, when given, replace the old ones."""
        found = self._found(plugin_id)
        current = self.loaded.get(plugin_id)
        if current is None or found.plugin is None:
            raise FailedPrecondition(
                f"plugin {plugin_id!r} is not loaded",
                details={"plugin_id": plugin_id},
                suggestion="load it first",
            )
        self.loaded[plugin_id] = self._build(
            found.plugin,
            enabled=current.enabled if change.enabled is None else change.enabled,
            priority=current.priority if change.priority is None else change.priority,
            settings=current.settings if change.settings is None else dict(change.settings),
            usage=current.usage,
        )
        self._rebuild()
        self._record(plugin_id)
        return self.view(plugin_id)

    def unload(self, plugin_id: str) -> None:
        """Unloads a loaded plugin; FailedPrecondition when it is not loaded."""
        self._found(plugin_id)
        if self.loaded.pop(plugin_id, None) is None:
            raise FailedPrecondition(f"plugin {plugin_id!r} is not loaded", details={"plugin_id": plugin_id})
        self._rebuild()
        self._record(plugin_id)

    def pipeline(self) -> Pipeline:
        """The enabled stages in force now (a snapshot: later changes do not affect it)."""
        return self._pipeline

    def _found(self, plugin_id: str) -> Discovered:
        found = self.found.get(plugin_id)
        if found is None:
            raise PluginNotFound(
                f"plugin {plugin_id!r} not found",
                details={"plugin_id": plugin_id, "available": sorted(self.found)},
            )
        return found

    def _build(
        self, plugin: type[Plugin], *, enabled: bool, priority: int, settings: dict[str, Any], usage: Usage
    ) -> Loaded:
        """A configured instance; InvalidInput naming the settings at fault."""
        started = time.perf_counter()
        try:
            validated = plugin.Settings.model_validate(settings)
            instance = plugin(validated)
        except ValidationError as error:
            raise settings_error(plugin.id, error) from None
        except MeshError:
            raise
        except Exception as error:  # a plugin's own failure to prepare itself
            raise PluginLoadFailed(
                f"plugin {plugin.id!r} failed to load: {type(error).__name__}: {error}",
                details={"plugin_id": plugin.id},
            ) from error
        return Loaded(
            instance=instance,
            enabled=enabled,
            priority=priority,
            settings=validated.model_dump(mode="json"),
            loaded_at=time.time(),
            load_seconds=time.perf_counter() - started,
            usage=usage,
        )

    def _rebuild(self) -> None:
        """Recomputes the stages in force: enabled plugins, higher priority first, then by id."""
        order = sorted(
            (item for item in self.loaded.items() if item[1].enabled),
            key=lambda item: (-item[1].priority, item[0]),
        )
        self._pipeline = Pipeline(tuple((loaded.instance, loaded.usage) for _, loaded in order))


def _config_of(loaded: Loaded) -> PluginConfig:
    return PluginConfig(loaded.enabled, loaded.priority, loaded.settings)


def settings_error(plugin_id: str, error: ValidationError) -> InvalidInput:
    """A pydantic validation failure as INVALID_INPUT naming each field at fault."""
    problems = error.errors(include_url=False, include_input=False)
    fields = [".".join(str(part) for part in p["loc"]) for p in problems]
    messages = [f"{f or 'settings'}: {p['msg']}" for f, p in zip(fields, problems, strict=True)]
    first = fields[0] if fields else ""
    return InvalidInput(
        f"invalid settings for plugin {plugin_id!r}: " + "; ".join(messages),
        details={
            "field": f"config.settings.{first}" if first else "config.settings",
            "plugin_id": plugin_id,
            "errors": "; ".join(messages),
        },
        suggestion="the plugin list shows each plugin's settings schema",
    )


__all__ = ["Category", "ConfigChange", "Loaded", "PluginManager", "PluginView", "settings_error"]
