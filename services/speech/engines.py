"""Engines loaded once per process, in the background, while the service already answers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from services.common.errors import ModelLoadFailed

log = logging.getLogger("meshserve.speech.engines")

T = TypeVar("T")


class EngineSlot(Generic[T]):
    """One lazily loaded engine: the first ``get`` (or ``start``) loads it in a thread; a failure is
    reported to every waiter and retried by the next call."""

    def __init__(self, name: str, loader: Callable[[], T]) -> None:
        self.name = name
        self._loader = loader
        self._task: asyncio.Future[T] | None = None
        self.error = ""
        self.load_seconds = 0.0

    def start(self) -> None:
        """Begins loading unless it has already begun (or succeeded)."""
        if self._task is None or (self._task.done() and self._task.exception() is not None):
            self.error = ""
            self._task = asyncio.ensure_future(asyncio.to_thread(self._load))

    @property
    def ready(self) -> bool:
        """Whether the engine is loaded."""
        return self._task is not None and self._task.done() and self._task.exception() is None

    @property
    def state(self) -> str:
        """``not_loaded``, ``loading``, ``ready`` or ``failed``."""
        if self._task is None:
            return "not_loaded"
        if not self._task.done():
            return "loading"
        return "failed" if self._task.exception() is not None else "ready"

    async def get(self) -> T:
        """The engine, loading it first when needed."""
        self.start()
        assert self._task is not None
        return await asyncio.shield(self._task)

    def _load(self) -> T:
        started = time.perf_counter()
        try:
            engine = self._loader()
        except Exception as exc:
            self.error = f"{exc.__class__.__name__}: {exc}"
            log.exception("loading %s failed", self.name)
            raise ModelLoadFailed(
                f"the {self.name} engine failed to load: {self.error}", details={"engine": self.name}
            ) from exc
        self.load_seconds = time.perf_counter() - started
        log.info("engine loaded", extra={"engine": self.name, "seconds": round(self.load_seconds, 3)})
        return engine
