"""The registry core: uploads, imports, lifecycle, artifacts and conversion. No transport imports.

Lifecycle of a version: stored ``ready`` once its bytes arrived, were checked and renamed into place,
then ``loading → loaded`` (or ``failed`` with the reason) as the inference service reports. An
upload stores no row before that, so a failed, interrupted or killed one leaves none; its temporary
file is removed (or swept at the next start, with any blob no row references).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from services.common.errors import AlreadyExists, InvalidInput, MeshError, ModelNotFound
from services.registry.blobs import BlobStore, BlobWriter
from services.registry.store import ModelRecord, SqlModelStore
from services.registry.validation import validate

log = logging.getLogger("meshserve.registry")

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
FORMATS = ("onnx", "torchscript", "pytorch", "gguf", "transformers")
#: Where the versions made from a stored version come from (``derive.py``): a built-in model's too.
DERIVED_SOURCES = ("optimization", "conversion")


@dataclass(frozen=True)
class UploadRequest:
    """The header of an upload, in core terms."""

    name: str
    format: str = ""
    filename: str = ""
    version: str = ""
    source: str = "upload"
    labels: dict[str, str] | None = None
    #: The artifact is an optimised form of another version (``Model.optimized``).
    optimized: bool = False


def check_name(name: str) -> None:
    """Refuses names that are empty, too long, or could escape a directory (``../``, ``/``)."""
    if not name:
        raise InvalidInput("model name is required", details={"field": "name"})
    if "/" in name or "\\" in name or ".." in name or not NAME_RE.match(name):
        raise InvalidInput(
            f"invalid model name {name!r}: use letters, digits, '-', '_' and '.', no path separators or '..'",
            details={"field": "name"},
        )


def check_version(version: str) -> None:
    """Refuses a version label that is not letters, digits, '-', '_' and '.' (it names directories
    on the workers, where another character would be replaced and two labels could meet)."""
    if ".." in version or not NAME_RE.match(version):
        raise InvalidInput(
            f"invalid version label {version!r}: use letters, digits, '-', '_' and '.'",
            details={"field": "version"},
        )


class Registry:
    """Model versions in the metadata store, artifacts in the blob store."""

    def __init__(self, store: SqlModelStore, blobs: BlobStore) -> None:
        self.store = store
        self.blobs = blobs

    async def receive(self, header: UploadRequest, chunks: AsyncIterator[bytes]) -> ModelRecord:
        """Stores an artifact arriving in chunks; nothing is left behind when anything fails."""
        check_name(header.name)
        if header.version:
            check_version(header.version)
        self._check_not_built_in(header.name, header.source)
        declared = header.format.lower()
        if declared and declared not in FORMATS:
            raise InvalidInput(
                f"unsupported format {header.format!r}; supported: {', '.join(FORMATS)}",
                details={"field": "format"},
            )
        record = ModelRecord(name=header.name, version=header.version, source=header.source)
        with self.blobs.writer() as writer:
            async for chunk in chunks:
                await asyncio.to_thread(writer.write, chunk)
            await asyncio.to_thread(writer.close)
            checked = await asyncio.to_thread(validate, writer.path, declared, dict(header.labels or {}))
            self._check_same_task(header.name, checked.task)
            # The bytes are complete and durable before the rename, and the row is stored only after
            # it (in one transaction, with the version it chooses): a crash at any point leaves a
            # temporary file or an unreferenced blob, both swept at the next start, never a row.
            record.sha256 = await self._commit(writer)
            record.format = checked.format
            record.task = checked.task
            record.status = "ready"
            record.size_bytes = writer.size
            record.spec = {
                "inputs": checked.inputs,
                "outputs": checked.outputs,
                "capabilities": checked.capabilities,
                "labels": {**checked.labels, **(header.labels or {}), "filename": header.filename},
                "optimized": header.optimized,
            }
            replaced = self._existing(header.name, header.version)
            await asyncio.to_thread(self.store.add, record, not header.version)
        if replaced and replaced != record.sha256 and not self.store.sha_in_use(replaced):
            self.blobs.remove(replaced)
        log.info(
            "stored model", extra={"model": record.name, "version": record.version, "sha256": record.sha256}
        )
        return record

    async def _commit(self, writer: BlobWriter) -> str:
        """:meth:`BlobStore.commit`, waiting off the event loop for an upload of the same content
        (maybe in this process) to store its row."""
        while True:
            try:
                return self.blobs.commit(writer, wait=False)
            except BlockingIOError:
                await asyncio.sleep(0.05)

    def _check_same_task(self, name: str, task: str) -> None:
        """A name's versions are one kind of model: a tensor model's next version is a tensor model,
        a language model's a language model (the surfaces serve a name as one or the other)."""
        try:
            newest = self.store.get(name)
        except ModelNotFound:
            return
        if newest.task != task:
            raise AlreadyExists(
                f"model {name!r} is a {_kind(newest.task)} ({newest.format}); this file is a "
                f"{_kind(task)}, so it cannot be a version of it",
                details={"field": "name", "existing_task": newest.task, "task": task},
                suggestion="upload it under another name",
            )

    def _check_not_built_in(self, name: str, source: str) -> None:
        """A built-in model's versions come with meshserve (or are derived from them): an upload,
        import or fine-tune under its name, which would replace what every caller gets, is refused."""
        if source in DERIVED_SOURCES:
            return
        if any(r.source == "builtin" for r in self.store.versions(name)):
            raise InvalidInput(
                f"model {name!r} is built in: its versions cannot be uploaded or replaced",
                details={"field": "name", "model_id": name},
                suggestion="upload it under another name",
            )

    def _existing(self, name: str, version: str) -> str:
        """The blob of the version an upload with an explicit version replaces, if any."""
        if not version:
            return ""
        try:
            return self.store.get(name, version).sha256
        except ModelNotFound:
            return ""

    def recover(self) -> tuple[int, int]:
        """After a crash: drops temporary files and blobs that no row references; returns how many."""
        return self.blobs.sweep_temporary(), self.blobs.sweep_unreferenced(self.store.sha_in_use)

    def get(self, name_or_id: str, version: str = "") -> ModelRecord:
        """One version (the newest when ``version`` is empty)."""
        return self.store.get(name_or_id, version)

    def list(self) -> list[ModelRecord]:
        """The newest version of every model."""
        return self.store.list()

    def delete(
        self, name_or_id: str, version: str = "", *, all_versions: bool = False, validate_only: bool = False
    ) -> tuple[tuple[str, ...], bool]:
        """Deletes a version (the newest when ``version`` is empty), or with ``all_versions`` every
        version of its name; removes each blob nothing else references. Returns the versions
        deleted and whether a blob went. A built-in version is refused before anything is deleted;
        ``validate_only`` answers or refuses the same way and deletes nothing."""
        if all_versions and version:
            raise InvalidInput(
                "all_versions deletes every version: leave version empty", details={"field": "version"}
            )
        record = self.store.get(name_or_id, version)
        records = self.store.versions(record.name) if all_versions else [record]
        builtin = next((r for r in records if r.source == "builtin"), None)
        if builtin is not None:
            raise InvalidInput(
                f"model {builtin.name!r} is built in and cannot be deleted",
                details={"model_id": builtin.name, "version": builtin.version},
            )
        if validate_only:
            return tuple(r.version for r in records), False
        blob_removed = False
        for doomed in records:
            self.store.delete(doomed.id)
            if doomed.sha256 and not self.store.sha_in_use(doomed.sha256):
                blob_removed = self.blobs.remove(doomed.sha256) or blob_removed
        return tuple(r.version for r in records), blob_removed

    def set_status(self, name_or_id: str, version: str, status: str, reason: str = "") -> ModelRecord:
        """Records a lifecycle change reported by the inference service."""
        record = self.store.get(name_or_id, version)
        self.store.set_status(record.id, status, reason)
        return self.store.get(record.id)

    def artifact(self, name_or_id: str, version: str = "") -> Path:
        """Path of a version's artifact."""
        record = self.store.get(name_or_id, version)
        if not self.blobs.exists(record.sha256):
            raise ModelNotFound(
                f"model {record.name!r} has no stored artifact", details={"model_id": record.id}
            )
        return self.blobs.path(record.sha256)


__all__ = ["MeshError", "Registry", "UploadRequest", "check_name", "check_version"]


def _kind(task: str) -> str:
    return "language model" if task == "text-generation" else f"{task} model"
