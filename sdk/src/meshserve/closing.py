"""``with`` for the SDK's objects that hold connections (clients, channels, streams)."""

from __future__ import annotations

import abc
from typing import TypeVar

_Self = TypeVar("_Self", bound="Closing")


class Closing(abc.ABC):
    """Mixin: ``with obj:`` gives ``obj`` and calls its ``close()`` on leaving."""

    @abc.abstractmethod
    def close(self) -> None:
        """Releases what the object holds."""

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
