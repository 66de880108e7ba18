"""Running the loaded plugins on one generation: preprocessing on the request, postprocessing on the
streamed text, each stage in priority order.

A plugin that raises a canonical error (a guard refusing a prompt) fails the request with that
error; any other exception fails it with INFERENCE_FAILED naming the plugin. Text is never passed
through unprocessed when a stage breaks: a filter that fails must not leak what it should mask.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from services.common.errors import InferenceFailed, MeshError
from services.inference.plugins.base import Category, Plugin, TextRequest, TextStream

log = logging.getLogger("meshserve.plugins")

#: A stage slower than this is logged as a warning (document 004 §6.4 shows such a log line).
SLOW_SECONDS = 0.5

T = TypeVar("T")


@dataclass
class Usage:
    """How often a loaded plugin ran and failed (shared by its successive instances)."""

    applied: int = 0
    failures: int = 0
    seconds: float = 0.0


def _run(plugin: Plugin, usage: Usage, work: Callable[[], T]) -> T:
    """Runs one stage, counting time and failures."""
    started = time.perf_counter()
    try:
        return work()
    except MeshError:
        usage.failures += 1
        raise
    except Exception as error:
        usage.failures += 1
        log.exception("plugin failed", extra={"plugin": plugin.id})
        raise InferenceFailed(
            f"plugin {plugin.id!r} failed: {type(error).__name__}: {error}", details={"plugin_id": plugin.id}
        ) from error
    finally:
        elapsed = time.perf_counter() - started
        usage.seconds += elapsed
        if elapsed > SLOW_SECONDS:
            log.warning(
                "plugin took longer than expected",
                extra={"plugin": plugin.id, "execution_time": round(elapsed, 3), "threshold": SLOW_SECONDS},
            )


class Pipeline:
    """The enabled stages, in order, as they were when a generation started."""

    def __init__(self, stages: tuple[tuple[Plugin, Usage], ...]) -> None:
        self.pre = tuple(s for s in stages if s[0].category is Category.PREPROCESSING)
        self.post = tuple(s for s in stages if s[0].category is Category.POSTPROCESSING)

    def __bool__(self) -> bool:
        return bool(self.pre or self.post)

    def preprocess(self, request: TextRequest) -> TextRequest:
        """The request after every preprocessing stage."""
        for plugin, usage in self.pre:
            request = _run(plugin, usage, functools.partial(plugin.preprocess, request))
            usage.applied += 1
        return request

    def output(self) -> OutputStream:
        """A rewriter of one generation's text through every postprocessing stage."""
        return OutputStream(self.post)


class OutputStream(TextStream):
    """The postprocessing stages chained: each one's output is the next one's input."""

    def __init__(self, stages: tuple[tuple[Plugin, Usage], ...]) -> None:
        self.stages = [(plugin, usage, _run(plugin, usage, plugin.stream)) for plugin, usage in stages]
        for _, usage, _ in self.stages:
            usage.applied += 1

    def feed(self, text: str) -> str:
        """Text every stage has released."""
        for plugin, usage, stream in self.stages:
            text = _run(plugin, usage, functools.partial(stream.feed, text))
        return text

    def finish(self) -> str:
        """The rest: each stage's held text goes through the stages after it."""
        text = ""
        for plugin, usage, stream in self.stages:
            if text:
                text = _run(plugin, usage, functools.partial(stream.feed, text))
            text += _run(plugin, usage, stream.finish)
        return text
