"""Finding plugins: the built-ins, then the ``meshserve.plugins`` entry point group.

A package adds a plugin by declaring, in its ``pyproject.toml``::

    [project.entry-points."meshserve.plugins"]
    my_plugin = "my_package.module:MyPlugin"   # a services.inference.plugins.base.Plugin subclass

An entry point that cannot be imported, or is not a plugin, is still listed (status FAILED, with
the reason) so an operator sees why it does not load rather than finding it silently missing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from services.inference.plugins.base import Plugin, check_plugin_class
from services.inference.plugins.builtin import BUILTINS

log = logging.getLogger("meshserve.plugins")

GROUP = "meshserve.plugins"


@dataclass(frozen=True)
class Discovered:
    """A plugin found at start: its class, or why it could not be used."""

    id: str
    source: str
    plugin: type[Plugin] | None = None
    error: str = ""


def discover(extra: Iterable[EntryPoint] | None = None) -> dict[str, Discovered]:
    """Every plugin by id: built-ins first; entry points (installed ones, or ``extra``) after.

    A later plugin with an id already taken is refused (listed under its entry point name) so a
    package cannot silently replace a built-in.
    """
    found: dict[str, Discovered] = {cls.id: Discovered(cls.id, "builtin", cls) for cls in BUILTINS}
    points = list(entry_points(group=GROUP)) if extra is None else list(extra)
    for point in points:
        source = point.value
        try:
            cls = check_plugin_class(point.load())
        except Exception as error:  # any import failure of third-party code is that plugin's failure
            log.warning("plugin entry point failed", extra={"entry_point": point.name, "error": str(error)})
            found.setdefault(
                point.name, Discovered(point.name, source, error=f"{type(error).__name__}: {error}")
            )
            continue
        if cls.id in found:
            taken = f"id {cls.id!r} is already taken by {found[cls.id].source}"
            log.warning("plugin entry point refused", extra={"entry_point": point.name, "error": taken})
            found.setdefault(point.name, Discovered(point.name, source, error=taken))
            continue
        found[cls.id] = Discovered(cls.id, source, cls)
    return found
