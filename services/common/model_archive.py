"""A Hugging Face model directory carried as one archive (zip, tar, tar.gz): listing and extraction.

The registry stores such an archive as one blob (format ``transformers``) and validates it; the
inference service extracts it to serve it. Both go through this module so they agree on what is
inside: members with absolute paths, ``..``, links or devices make the archive unsafe and are
refused, a single top-level folder is looked through, and pickled weights (``*.bin``, ``*.pt``, …)
are never extracted, because loading a pickle runs arbitrary code. No transport imports.
"""

from __future__ import annotations

import contextlib
import shutil
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

#: Weight files that are Python pickles: listed, never extracted or loaded.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
MAX_MEMBERS = 10_000


class UnsafeArchive(ValueError):
    """The file is not an archive, or a member could escape the directory it is extracted to."""


@dataclass(frozen=True)
class Member:
    """One regular file of the archive, by its path inside the model directory."""

    name: str
    size: int
    #: Its name in the archive (with the top-level folder, when there is one).
    stored: str


class ModelArchive:
    """An opened archive of a model directory (use as a context manager)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        if zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
        elif _is_tar(path):
            self._tar = tarfile.open(path, mode="r:*")
        else:
            raise UnsafeArchive("the file is neither a zip nor a tar archive")
        try:
            self.members = _strip_top_folder(list(self._raw_members()))
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> ModelArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the underlying archive."""
        for handle in (self._zip, self._tar):
            if handle is not None:
                handle.close()

    def names(self) -> set[str]:
        """Paths of every file inside the model directory."""
        return {m.name for m in self.members}

    def open(self, name: str) -> IO[bytes]:
        """A member's bytes, by its path inside the model directory."""
        member = next(m for m in self.members if m.name == name)
        if self._zip is not None:
            return self._zip.open(member.stored)
        assert self._tar is not None
        handle = self._tar.extractfile(member.stored)
        if handle is None:
            raise UnsafeArchive(f"{name} is not a regular file")
        return handle

    def extract(self, dest: Path) -> None:
        """Writes every file but pickles under ``dest`` (which must not exist), atomically."""
        partial = dest.with_name(f".{dest.name}.part")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        try:
            for member in self.members:
                if member.name.endswith(PICKLE_SUFFIXES):
                    continue
                target = partial / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                with self.open(member.name) as source, target.open("wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
            partial.rename(dest)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise

    def _raw_members(self) -> Iterator[Member]:
        count = 0
        if self._zip is not None:
            for info in self._zip.infolist():
                count = _count(count)
                if info.is_dir():
                    continue
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise UnsafeArchive(f"member {info.filename!r} is a symbolic link")
                yield Member(_safe_name(info.filename), info.file_size, info.filename)
            return
        assert self._tar is not None
        for entry in self._tar:
            count = _count(count)
            if entry.isdir():
                continue
            if not entry.isfile():
                raise UnsafeArchive(f"member {entry.name!r} is a link or a device, not a regular file")
            yield Member(_safe_name(entry.name), entry.size, entry.name)


def _count(count: int) -> int:
    if count >= MAX_MEMBERS:
        raise UnsafeArchive(f"the archive has more than {MAX_MEMBERS} members")
    return count + 1


def _is_tar(path: Path) -> bool:
    with contextlib.suppress(tarfile.TarError, OSError):
        return tarfile.is_tarfile(path)
    return False


def _safe_name(name: str) -> str:
    """The member's path, refusing any that is absolute or climbs out with ``..``."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise UnsafeArchive(f"member {name!r} would be written outside the model directory")
    parts = [p for p in pure.parts if p != "."]
    if not parts:
        raise UnsafeArchive(f"member {name!r} has no file name")
    return "/".join(parts)


def _strip_top_folder(members: list[Member]) -> list[Member]:
    """Looks through one folder that holds everything (``tar czf m.tgz my-model/``)."""
    tops = {m.name.split("/", 1)[0] for m in members}
    if len(tops) == 1 and all("/" in m.name for m in members):
        return [Member(m.name.split("/", 1)[1], m.size, m.stored) for m in members]
    return members
