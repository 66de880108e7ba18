"""The plugins that ship with meshserve."""

from __future__ import annotations

from services.inference.plugins.base import Plugin
from services.inference.plugins.builtin.model_adapter import ModelAdapter
from services.inference.plugins.builtin.prompt_guard import PromptGuard
from services.inference.plugins.builtin.response_filter import ResponseFilter

BUILTINS: tuple[type[Plugin], ...] = (ModelAdapter, PromptGuard, ResponseFilter)

__all__ = ["BUILTINS", "ModelAdapter", "PromptGuard", "ResponseFilter"]
