"""What a plugin is: metadata, a settings schema, and one processing stage.

A loaded plugin is an *instance* of its class built from validated settings, so whatever it
prepares from them (compiled patterns, say) is done once at load time, and a reconfiguration swaps
in a new instance while requests already running keep the one they started with.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict


class Category(StrEnum):
    """Where in a generation a plugin runs."""

    PREPROCESSING = "preprocessing"
    POSTPROCESSING = "postprocessing"


class NoSettings(BaseModel):
    """A plugin without settings (unknown keys are refused)."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Message:
    """One chat message."""

    role: str
    content: str


@dataclass(frozen=True)
class TextRequest:
    """The parts of a generation request a preprocessing plugin may read and rewrite.

    ``None`` sampling values mean "the client did not say" (the service default applies), so a
    plugin can supply defaults without overriding what a client asked for.
    """

    model: str
    prompt: str = ""
    messages: tuple[Message, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = field(default=())

    def with_(self, **changes: Any) -> TextRequest:
        """A copy with some fields changed."""
        return replace(self, **changes)

    @property
    def is_chat(self) -> bool:
        """Whether the request carries chat messages (else a raw prompt)."""
        return bool(self.messages)


class TextStream:
    """Rewrites one generation's text as it streams: ``feed`` each piece, then ``finish`` once.

    ``feed`` may hold text back (returning less than it was given, even nothing) when a later piece
    could change how it must be rewritten; ``finish`` returns whatever is still held. The
    concatenation of everything returned is the rewritten text. This default passes text through.
    """

    def feed(self, text: str) -> str:
        """The rewritten text that can be released now."""
        return text

    def finish(self) -> str:
        """The rest, at the end of the generation."""
        return ""


#: A plugin's settings model; ``Plugin[GuardSettings]`` types ``self.settings`` for its stages.
SettingsT = TypeVar("SettingsT", bound=BaseModel)


class Plugin(Generic[SettingsT]):
    """Base class of every plugin; subclasses set the metadata and override one stage."""

    id: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[str] = "0.1.0"
    category: ClassVar[Category]
    author: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Settings: ClassVar[type[BaseModel]] = NoSettings

    def __init__(self, settings: SettingsT) -> None:
        self.settings = settings

    def preprocess(self, request: TextRequest) -> TextRequest:
        """Preprocessing: the request the model will see; raise a MeshError to refuse it."""
        return request

    def stream(self) -> TextStream:
        """Postprocessing: a fresh rewriter for one generation's text."""
        return TextStream()


def settings_schema(plugin: type[Plugin]) -> dict[str, Any]:
    """JSON Schema of a plugin's settings."""
    return plugin.Settings.model_json_schema()


def check_plugin_class(candidate: Any) -> type[Plugin]:
    """The candidate as a plugin class; TypeError saying what is missing otherwise."""
    if not (isinstance(candidate, type) and issubclass(candidate, Plugin)):
        raise TypeError(f"{candidate!r} is not a subclass of services.inference.plugins.base.Plugin")
    for attribute in ("id", "name", "category"):
        if not getattr(candidate, attribute, None):
            raise TypeError(f"plugin {candidate.__name__} does not set {attribute}")
    if not isinstance(candidate.category, Category):
        raise TypeError(f"plugin {candidate.__name__}: category must be a Category")
    if not (isinstance(candidate.Settings, type) and issubclass(candidate.Settings, BaseModel)):
        raise TypeError(f"plugin {candidate.__name__}: Settings must be a pydantic model")
    return candidate
