"""Content-addressed blob store: artifacts named by their sha256, written through a temporary file
and renamed into place atomically, so a failed or interrupted write leaves nothing behind.
No transport imports."""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from services.common.errors import PayloadTooLarge


@dataclass
class BlobWriter:
    """An artifact being received: hashed and size-checked chunk by chunk, never held in memory."""

    path: Path
    limit: int
    size: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)

    def __post_init__(self) -> None:
        self._handle = self.path.open("wb")

    def write(self, chunk: bytes) -> None:
        """Appends a chunk; :class:`PayloadTooLarge` past the limit."""
        self.size += len(chunk)
        if self.size > self.limit:
            raise PayloadTooLarge(
                f"artifact exceeds the upload limit of {self.limit} bytes",
                details={"max_upload_bytes": self.limit, "received_bytes": self.size},
                suggestion="raise MESHSERVE_REGISTRY_MAX_UPLOAD_BYTES or upload a smaller model",
            )
        self.digest.update(chunk)
        self._handle.write(chunk)

    def close(self) -> None:
        """Flushes to disk."""
        if not self._handle.closed:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()

    @property
    def sha256(self) -> str:
        """Hex digest of what was written."""
        return self.digest.hexdigest()


class BlobStore:
    """Blobs under ``root/<aa>/<sha256>``; temporary files under ``root/tmp``."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        # Temporary files of a previous process that died mid-upload.
        for stale in self.tmp.iterdir():
            with contextlib.suppress(OSError):
                stale.unlink()

    def path(self, sha256: str) -> Path:
        """Where a blob lives."""
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        """Whether a blob is stored."""
        return bool(sha256) and self.path(sha256).exists()

    @contextlib.contextmanager
    def writer(self, limit: int | None = None):
        """A :class:`BlobWriter` whose temporary file is removed unless :meth:`commit` took it."""
        writer = BlobWriter(self.tmp / f"{uuid.uuid4().hex}.part", limit or self.max_bytes)
        try:
            yield writer
        finally:
            writer.close()
            with contextlib.suppress(FileNotFoundError):
                writer.path.unlink()

    def commit(self, writer: BlobWriter) -> str:
        """Moves a finished temporary file into place under its sha256 (atomic rename)."""
        writer.close()
        target = self.path(writer.sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            writer.path.unlink()
        else:
            writer.path.replace(target)
        return writer.sha256

    def remove(self, sha256: str) -> bool:
        """Deletes a blob; whether it existed."""
        try:
            self.path(sha256).unlink()
            return True
        except FileNotFoundError:
            return False

    def usage(self) -> tuple[int, int]:
        """(blob count, bytes) of stored blobs."""
        count = size = 0
        for entry in self.root.glob("??/*"):
            if entry.is_file():
                count += 1
                size += entry.stat().st_size
        return count, size
