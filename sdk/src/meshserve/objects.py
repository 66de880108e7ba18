"""JSON answers readable both as dicts and by attribute (``response.choices[0].message.content``)."""

from __future__ import annotations

from typing import Any


class Obj(dict):  # type: ignore[type-arg]
    """A dict whose keys are also attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def wrap(value: Any) -> Any:
    """Converts nested dicts into :class:`Obj` (lists are walked)."""
    if isinstance(value, dict):
        return Obj({k: wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value
