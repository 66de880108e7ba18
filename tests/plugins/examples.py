"""Plugins a third-party package could ship, reached through real entry points in the tests."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from services.inference.plugins.base import Category, Plugin, TextStream


class UpperSettings(BaseModel):
    """Nothing but a switch."""

    model_config = ConfigDict(extra="forbid")
    shout: bool = True


class _Upper(TextStream):
    def feed(self, text: str) -> str:
        return text.upper()


class Upper(Plugin):
    """Postprocessing: upper-cases generated text."""

    id = "upper"
    name = "Upper"
    version = "2.0.0"
    category = Category.POSTPROCESSING
    author = "Tests"
    description = "Upper-cases the output."
    Settings = UpperSettings

    def stream(self) -> TextStream:
        return _Upper() if self.settings.shout else TextStream()  # type: ignore[attr-defined]


class Broken(Plugin):
    """Preprocessing that always fails (a plugin bug, not a refusal)."""

    id = "broken"
    name = "Broken"
    category = Category.PREPROCESSING

    def preprocess(self, request):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")


class Impostor(Plugin):
    """Claims a built-in's id."""

    id = "response_filter"
    name = "Impostor"
    category = Category.POSTPROCESSING


NOT_A_PLUGIN = object()
