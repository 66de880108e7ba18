"""JSON answers readable both as dicts and by attribute (``response.choices[0].message.content``).

Documented fields the gateway may leave out read as ``None`` (``_defaults``); other missing
attributes raise AttributeError as usual."""

from __future__ import annotations

from typing import Any, ClassVar


class Obj(dict):
    """A dict whose keys are also attributes."""

    _defaults: ClassVar[dict[str, Any]] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            if name in self._defaults:
                return self._defaults[name]
            raise AttributeError(f"{type(self).__name__} has no field {name!r}") from None


def wrap(value: Any, cls: type[Obj] = Obj) -> Any:
    """Converts nested dicts into :class:`Obj` (the outermost into ``cls``; lists are walked)."""
    if isinstance(value, dict):
        return cls({k: wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return [wrap(v, cls) for v in value]
    return value


class Delta(Obj):
    """A streamed chat delta; ``content``/``role`` read as None when absent."""

    _defaults: ClassVar[dict[str, Any]] = {"content": None, "role": None, "tool_calls": None}


class ModelCard(Obj):
    """A model as listed by ``client.models`` (002 ``Model``: id, object, created, parameters, format)."""

    _defaults: ClassVar[dict[str, Any]] = {"parameters": None, "format": None, "created": None}


class ServerInfo(Obj):
    """``GET /info`` (002 ``ServerInfo``: version, models, gpu_memory, uptime)."""

    _defaults: ClassVar[dict[str, Any]] = {"gpu_memory": None, "uptime": None}


class SystemStatus(Obj):
    """004 system status; ``gpu_usage`` and the other ``system`` fields also read at the top."""

    def __getattr__(self, name: str) -> Any:
        if name in self:
            return self[name]
        system = self.get("system")
        if isinstance(system, dict) and name in system:
            return system[name]
        raise AttributeError(f"SystemStatus has no field {name!r}")


class StreamToken(Obj):
    """A 004 stream event; ``text`` is its token."""

    @property
    def text(self) -> str:
        """The token's text."""
        return str(self.get("token", ""))


def chunk(event: Any) -> Any:
    """An OpenAI stream chunk whose choices' deltas read missing fields as None."""
    value = wrap(event)
    for choice in value.get("choices", []) if isinstance(value, dict) else []:
        if isinstance(choice.get("delta"), dict):
            choice["delta"] = Delta(choice["delta"])
    return value
