"""A one-line text progress bar on stderr, with no dependency.

Transfers report ``(done, total)`` bytes; ``total`` is 0 when the size is not known in advance
(synthesised audio is streamed with chunked transfer), and the bar then shows bytes and rate
instead of a percentage. Redraws are throttled so a fast transfer does not flood the terminal."""

from __future__ import annotations

import sys
import time
from typing import IO


def human_bytes(n: float) -> str:
    """1023B, 1.5KiB, 12.3MiB, 2.0GiB."""
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{int(size)}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1024
    return f"{size:.1f}GiB"


class ProgressBar:
    """``bar(done, total)`` redraws the line; ``bar.finish()`` ends it. Disabled bars do nothing."""

    def __init__(
        self,
        label: str,
        *,
        enabled: bool = True,
        stream: IO[str] | None = None,
        width: int = 24,
        interval: float = 0.1,
    ) -> None:
        self.label = label
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.width = width
        self.interval = interval
        self.done = 0
        self.total = 0
        self._started = time.monotonic()
        self._drawn_at = 0.0
        self._ended = 0.0
        self._last = ""

    def __call__(self, done: int, total: int) -> None:
        """Records progress; redraws at most every ``interval`` seconds (and once at 100%)."""
        if done == self.done and total == self.total:
            return  # a read at the end of the file reports nothing new
        self.done, self.total = done, total
        now = time.monotonic()
        complete = bool(total) and done >= total
        if complete:
            self._ended = now
        if self.enabled and (complete or now - self._drawn_at >= self.interval):
            self._drawn_at = now
            self._draw()

    def line(self) -> str:
        """The text of the bar as it stands (the rate is measured up to the last byte)."""
        elapsed = max((self._ended or time.monotonic()) - self._started, 1e-6)
        rate = f"{human_bytes(self.done / elapsed)}/s"
        if not self.total:
            return f"{self.label} {human_bytes(self.done)} {rate}"
        fraction = min(self.done / self.total, 1.0)
        filled = int(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        sizes = f"{human_bytes(self.done)}/{human_bytes(self.total)}"
        return f"{self.label} [{bar}] {int(100 * fraction):3d}% {sizes} {rate}"

    def _draw(self) -> None:
        text = self.line()
        if text != self._last:
            self.stream.write(("\r\x1b[K" if self.stream.isatty() else "\r") + text)
            self.stream.flush()
            self._last = text

    def finish(self) -> None:
        """Draws the final state and ends the line (nothing when disabled or never started)."""
        if self.enabled and self.done:
            if not self._ended:
                self._ended = time.monotonic()
            self._draw()
            self.stream.write("\n")
            self.stream.flush()


def enabled(flag: bool | None) -> bool:
    """``--progress``/``--no-progress`` when given, else whether stderr is a terminal."""
    return sys.stderr.isatty() if flag is None else flag
