"""A GGUF file's parameter count from its header alone (the tensor table), without the ``gguf`` reader.

``gguf.GGUFReader`` builds numpy views of every metadata field, tokenizer vocabularies included:
about 3.6 s for the bundled SmolLM2 on 2 cores. The registry reads the bundled model's count at
every start, so it walks the header itself: metadata values are skipped by their sizes, and the
tensor table gives each tensor's dimensions (tens of milliseconds, weights never touched).
Layout: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

from __future__ import annotations

import math
import mmap
import struct
from pathlib import Path

MAGIC = b"GGUF"
#: Byte size of each fixed-size metadata value type (8 = string and 9 = array are variable).
_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9


class GGUFHeaderError(ValueError):
    """The file is not a GGUF file this reader understands (or is truncated)."""


class _Cursor:
    """Reads little-endian values from a buffer, checking bounds."""

    def __init__(self, data: mmap.mmap) -> None:
        self.data = data
        self.at = 0

    def unpack(self, fmt: str) -> tuple[int, ...]:
        size = struct.calcsize(fmt)
        if self.at + size > len(self.data):
            raise GGUFHeaderError("the header runs past the end of the file")
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += size
        return values

    def skip(self, size: int) -> None:
        if size < 0 or self.at + size > len(self.data):
            raise GGUFHeaderError("the header runs past the end of the file")
        self.at += size

    def skip_value(self, kind: int) -> None:
        if kind in _FIXED:
            self.skip(_FIXED[kind])
        elif kind == _STRING:
            self.skip(self.unpack("<Q")[0])
        elif kind == _ARRAY:
            item, count = self.unpack("<IQ")
            if item in _FIXED:
                self.skip(_FIXED[item] * count)
            else:
                for _ in range(count):
                    self.skip_value(item)
        else:
            raise GGUFHeaderError(f"unknown metadata value type {kind}")


def parameter_count(path: Path) -> int:
    """Elements of every tensor the file declares (GGUF versions 2 and 3)."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:4] != MAGIC:
            raise GGUFHeaderError("the file does not start with the GGUF magic bytes")
        cursor = _Cursor(data)
        cursor.skip(4)
        version, tensors, fields = cursor.unpack("<IQQ")
        if version not in (2, 3):
            raise GGUFHeaderError(f"GGUF version {version} is not supported")
        for _ in range(fields):
            cursor.skip(cursor.unpack("<Q")[0])  # the key
            cursor.skip_value(cursor.unpack("<I")[0])
        total = 0
        for _ in range(tensors):
            cursor.skip(cursor.unpack("<Q")[0])  # the name
            (dims,) = cursor.unpack("<I")
            total += math.prod(cursor.unpack(f"<{dims}Q"))
            cursor.skip(4 + 8)  # the tensor type and its data offset
        return total
