"""The registry core: uploads, imports, lifecycle, artifacts and conversion. No transport imports.

Lifecycle of a version: ``uploading → validating → ready`` as bytes arrive and are checked, then
``loading → loaded`` (or ``failed`` with the reason) as the inference service reports. A failed or
interrupted upload deletes its row and its temporary file; the blob is renamed into place only
after validation passed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from services.common.errors import InvalidInput, MeshError, ModelNotFound
from services.registry.blobs import BlobStore, BlobWriter
from services.registry.store import ModelRecord, SqlModelStore
from services.registry.validation import validate

log = logging.getLogger("meshserve.registry")

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
FORMATS = ("onnx", "torchscript", "pytorch", "gguf", "transformers")


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


class Registry:
    """Model versions in the metadata store, artifacts in the blob store."""

    def __init__(self, store: SqlModelStore, blobs: BlobStore) -> None:
        self.store = store
        self.blobs = blobs

    async def receive(self, header: UploadRequest, chunks: AsyncIterator[bytes]) -> ModelRecord:
        """Stores an artifact arriving in chunks; nothing is left behind when anything fails."""
        check_name(header.name)
        declared = header.format.lower()
        if declared and declared not in FORMATS:
            raise InvalidInput(
                f"unsupported format {header.format!r}; supported: {', '.join(FORMATS)}",
                details={"field": "format"},
            )
        version = header.version or self.store.next_version(header.name)
        record = ModelRecord(name=header.name, version=version, status="uploading", source=header.source)
        with self.blobs.writer() as writer:
            self.store.put(record)
            try:
                async for chunk in chunks:
                    await asyncio.to_thread(writer.write, chunk)
                return await self._finish(record, writer, declared, header)
            except BaseException:  # also cancellation: an interrupted upload leaves no row
                self.store.delete(record.id)
                raise

    async def _finish(
        self, record: ModelRecord, writer: BlobWriter, declared: str, header: UploadRequest
    ) -> ModelRecord:
        writer.close()
        self.store.set_status(record.id, "validating")
        checked = await asyncio.to_thread(validate, writer.path, declared, dict(header.labels or {}))
        sha = self.blobs.commit(writer)
        record.format = checked.format
        record.task = checked.task
        record.status = "ready"
        record.sha256 = sha
        record.size_bytes = writer.size
        record.spec = {
            "inputs": checked.inputs,
            "outputs": checked.outputs,
            "capabilities": checked.capabilities,
            "labels": {**checked.labels, **(header.labels or {}), "filename": header.filename},
            "optimized": header.optimized,
        }
        self.store.put(record)
        log.info("stored model", extra={"model": record.name, "version": record.version, "sha256": sha})
        return record

    def get(self, name_or_id: str, version: str = "") -> ModelRecord:
        """One version (the newest when ``version`` is empty)."""
        return self.store.get(name_or_id, version)

    def list(self) -> list[ModelRecord]:
        """The newest version of every model."""
        return self.store.list()

    def delete(self, name_or_id: str, version: str = "") -> bool:
        """Deletes a version; removes its blob when nothing else references it."""
        record = self.store.get(name_or_id, version)
        if record.source == "builtin":
            raise InvalidInput(f"model {record.name!r} is built in and cannot be deleted")
        self.store.delete(record.id)
        if record.sha256 and not self.store.sha_in_use(record.sha256):
            return self.blobs.remove(record.sha256)
        return False

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


__all__ = ["MeshError", "Registry", "UploadRequest", "check_name"]
