"""Model files for upload: format detection and a file wrapper that reports progress (the
``meshserve`` command draws it with :mod:`meshserve.cli.progress`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from meshserve.errors import ModelLoadError, UnsupportedError

Progress = Callable[[int, int], None]  # (bytes sent, total bytes)

# 000's format names and file extensions -> the registry's format names.
FORMATS = {"onnx": "onnx", "pytorch": "torchscript", "torchscript": "torchscript", "pt": "torchscript"}
EXTENSIONS = {".onnx": "onnx", ".pt": "torchscript", ".pth": "torchscript", ".torchscript": "torchscript"}


def is_local_source(source: str) -> bool:
    """True for what names a local file or directory (not a hub id, URL or registered name)."""
    return (
        os.path.exists(source)
        or Path(source).suffix.lower() in {*EXTENSIONS, ".pb", ".h5", ".keras", ".bin", ".safetensors"}
        or source.endswith(("/", os.sep))
    )


def registry_format(path: Path, format: str | None) -> str:
    """The registry's format for a file (from ``format`` or its extension); refuses what cannot serve."""
    if format and format.lower() in ("tensorflow", "tf", "savedmodel", "keras"):
        raise UnsupportedError(
            f"{path}: TensorFlow models are not served by meshserve; export to ONNX (tf2onnx) first"
        )
    if format:
        try:
            return FORMATS[format.lower()]
        except KeyError:
            raise ModelLoadError(
                f"{path}: unknown format {format!r} (onnx, pytorch/torchscript)", None
            ) from None
    return EXTENSIONS.get(path.suffix.lower(), "")


class ProgressFile:
    """Wraps a binary file; each ``read`` reports (sent, total) to the callback."""

    def __init__(self, handle: IO[bytes], total: int, callback: Progress) -> None:
        self._handle = handle
        self.total = total
        self.sent = 0
        self._callback = callback

    def read(self, size: int = -1) -> bytes:
        """Reads and reports."""
        data = self._handle.read(size)
        self.sent += len(data)
        self._callback(self.sent, self.total)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        """Seeks (a retried upload starts again at 0)."""
        if offset == 0 and whence == 0:
            self.sent = 0
        return self._handle.seek(offset, whence)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)
