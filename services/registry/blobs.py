"""Content-addressed blob store: artifacts named by their sha256, written to a temporary file in the
store, fsynced, and renamed into place atomically, so a failed, interrupted or killed write leaves
nothing that a later start does not sweep. No transport imports.

Several registry replicas may share the directory (the launcher's ``--replicas``). A writer holds an
exclusive ``flock`` on its temporary file from creation until its version's row is stored (the lock
follows the file through the rename); the kernel drops it when the process dies. The sweeps at start
remove only what nobody holds: temporary files of dead writers, and blobs that no row references.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from services.common.errors import PayloadTooLarge


@dataclass
class BlobWriter:
    """An artifact being received: hashed and size-checked chunk by chunk, never held in memory."""

    path: Path
    limit: int
    size: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    #: Held (shared) on an existing blob of the same content while its row is stored.
    held: IO[bytes] | None = None

    def __post_init__(self) -> None:
        self._handle = self.path.open("xb")
        fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX)
        # A sweep could have taken the file between its creation and the lock; then the upload fails.
        if os.stat(self.path).st_ino != os.fstat(self._handle.fileno()).st_ino:
            self._handle.close()
            raise FileNotFoundError(self.path)

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
        """Flushes the bytes to disk; the file stays open, and locked, until :meth:`release`."""
        if not self._handle.closed:
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def release(self) -> None:
        """Closes the file, which drops the lock."""
        self._handle.close()
        if self.held is not None:
            self.held.close()

    @property
    def sha256(self) -> str:
        """Hex digest of what was written."""
        return self.digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    """Makes a rename or unlink in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _unless_held(path: Path) -> Iterator[bool]:
    """Whether nobody holds ``path``'s lock (it is held exclusively meanwhile)."""
    try:
        handle = path.open("rb")
    except OSError:
        yield False
        return
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


class BlobStore:
    """Blobs under ``root/<aa>/<sha256>``; temporary files under ``root/tmp``."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.sweep_temporary()

    def sweep_temporary(self) -> int:
        """Removes temporary files of writers that died mid-upload; returns how many."""
        removed = 0
        for stale in self.tmp.iterdir():
            with _unless_held(stale) as free:
                if free:
                    stale.unlink(missing_ok=True)
                    removed += 1
        return removed

    def sweep_unreferenced(self, in_use: Callable[[str], bool]) -> int:
        """Removes blobs that no version references (a writer that died between the rename and
        storing its row); ``in_use`` is asked again under the blob's lock. Returns how many."""
        removed = 0
        for entry in self.root.glob("??/*"):
            if in_use(entry.name):
                continue
            with _unless_held(entry) as free:
                if free and not in_use(entry.name):
                    entry.unlink(missing_ok=True)
                    removed += 1
        return removed

    def path(self, sha256: str) -> Path:
        """Where a blob lives."""
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        """Whether a blob is stored."""
        return bool(sha256) and self.path(sha256).exists()

    @contextlib.contextmanager
    def writer(self, limit: int | None = None) -> Iterator[BlobWriter]:
        """A :class:`BlobWriter`; its temporary file is removed unless :meth:`commit` took it, and its
        lock is held until the block ends (store the version's row inside it)."""
        writer = BlobWriter(self.tmp / f"{uuid.uuid4().hex}.part", limit or self.max_bytes)
        try:
            yield writer
        finally:
            with contextlib.suppress(FileNotFoundError):
                writer.path.unlink()
            writer.release()

    def commit(self, writer: BlobWriter, wait: bool = True) -> str:
        """Moves a finished temporary file into place under its sha256 (fsync, then atomic rename).

        When a blob of the same content is there but held by another upload still storing its row,
        this waits for it, or raises :class:`BlockingIOError` without ``wait``."""
        writer.close()
        target = self.path(writer.sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        existing = self._hold(target, wait)
        if existing is not None:
            writer.held = existing
            writer.path.unlink()
        else:
            writer.path.replace(target)
            _fsync_dir(target.parent)
        return writer.sha256

    @staticmethod
    def _hold(target: Path, wait: bool) -> IO[bytes] | None:
        """A shared lock on the blob at ``target`` if it is (still) there, else None."""
        try:
            handle = target.open("rb")
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.close()
            raise
        try:
            linked = os.stat(target).st_ino == os.fstat(handle.fileno()).st_ino
        except FileNotFoundError:
            linked = False
        if not linked:  # a sweep removed it while we waited
            handle.close()
            return None
        return handle

    def remove(self, sha256: str) -> bool:
        """Deletes a blob unless an upload of the same content holds it; whether it was deleted."""
        path = self.path(sha256)
        with _unless_held(path) as free:
            if free:
                path.unlink(missing_ok=True)
            return free

    def usage(self) -> tuple[int, int]:
        """(blob count, bytes) of stored blobs."""
        count = size = 0
        for entry in self.root.glob("??/*"):
            if entry.is_file():
                count += 1
                size += entry.stat().st_size
        return count, size
