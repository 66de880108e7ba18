"""The PostgreSQL metadata store behaves like the SQLite one (same queries, same replace and
ordering rules), keeps uploads atomic, and the registry process uses it when DATABASE_URL says so."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest

from meshserve.v1 import registry_pb2 as rpb
from meshserve.v1 import registry_pb2_grpc as rpb_grpc
from services.common.errors import InvalidInput, ModelNotFound, ModelValidationFailed
from services.registry.blobs import BlobStore
from services.registry.builtins import example_onnx
from services.registry.catalog import Registry, UploadRequest
from services.registry.pg_store import PostgresModelStore, open_store
from services.registry.store import ModelRecord, ModelStore, SqlModelStore
from tests.procs import start_service


def _fresh(url: str) -> PostgresModelStore:
    store = PostgresModelStore(url)
    store._run("DELETE FROM models")
    return store


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlModelStore]:
    """Each store, empty."""
    opened = (
        ModelStore(tmp_path / "r.db")
        if request.param == "sqlite"
        else _fresh(request.getfixturevalue("postgres_url"))
    )
    yield opened
    opened.close()


def test_open_store_picks_the_backend(postgres_url: str, tmp_path: Path) -> None:
    assert isinstance(open_store(postgres_url, tmp_path / "x.db"), PostgresModelStore)
    assert isinstance(open_store("", tmp_path / "x.db"), ModelStore)
    assert isinstance(open_store(f"sqlite:///{tmp_path}/y.db", tmp_path / "x.db"), ModelStore)
    with pytest.raises(ValueError, match="mysql"):
        open_store("mysql://h/db", tmp_path / "x.db")


def test_versions_lifecycle_and_listing(store: SqlModelStore) -> None:
    first = store.put(ModelRecord(name="m", version="1", created_at="2026-01-01T00:00:00Z", spec={"a": [1]}))
    store.put(ModelRecord(name="m", version="2", created_at="2026-01-01T00:00:00Z"))
    store.put(ModelRecord(name="m", version="beta", created_at="2026-01-01T00:00:00Z"))
    store.put(ModelRecord(name="other", version="1", status="uploading"))
    assert store.get("m").version == "2"  # same time: the highest numeric version wins
    assert store.get("m", "1").spec == {"a": [1]} and store.get(first.id).name == "m"
    assert store.next_version("m") == "3"
    with pytest.raises(ModelNotFound):
        store.get("other")  # uploads in progress are invisible
    with pytest.raises(ModelNotFound, match="model 'm' has no version '9'"):
        store.get("m", "9")
    assert [r.name for r in store.list()] == ["m"]
    store.set_status(first.id, "failed", "no worker")
    assert (store.get("m", "1").status, store.get("m", "1").status_reason) == ("failed", "no worker")
    assert store.purge_incomplete() == 1


def test_replace_by_id_and_by_name_version(store: SqlModelStore) -> None:
    record = store.put(ModelRecord(name="m", version="1", sha256="a" * 64))
    record.status = "ready"
    record.size_bytes = 5 * 1024**3  # beyond 32 bits
    store.put(record)
    assert store.get(record.id).size_bytes == 5 * 1024**3
    store.put(ModelRecord(name="m", version="1", sha256="b" * 64))  # a new id for the same version
    assert store.get("m", "1").sha256 == "b" * 64
    assert store.sha_in_use("b" * 64) and not store.sha_in_use("a" * 64)
    store.delete(store.get("m", "1").id)
    with pytest.raises(ModelNotFound):
        store.get("m")


def test_deleting_every_version_of_a_name_is_all_or_nothing(store: SqlModelStore, tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs", max_bytes=10_000)
    registry = Registry(store, blobs)
    for version, source in (("1", "builtin"), ("2", "upload")):
        store.put(
            ModelRecord(name="b", version=version, source=source, created_at=f"2026-01-0{version}T00:00:00Z")
        )
    with pytest.raises(InvalidInput, match="built in"):
        registry.delete("b", all_versions=True)
    assert [r.version for r in store.versions("b")] == ["2", "1"]  # nothing went

    for version in ("1", "2", "3"):
        store.put(ModelRecord(name="u", version=version, created_at=f"2026-01-0{version}T00:00:00Z"))
    store.put(ModelRecord(name="keep", version="1"))
    with pytest.raises(InvalidInput, match="leave version empty"):
        registry.delete("u", "2", all_versions=True)
    assert registry.delete("u", all_versions=True, validate_only=True) == (("3", "2", "1"), False)
    assert len(store.versions("u")) == 3  # only checked
    with pytest.raises(InvalidInput, match="built in"):
        registry.delete("b", all_versions=True, validate_only=True)
    assert registry.delete("u", all_versions=True) == (("3", "2", "1"), False)
    assert store.versions("u") == [] and store.get("keep").name == "keep"
    assert registry.delete("keep") == (("1",), False)  # one version, as before
    with pytest.raises(ModelNotFound):
        registry.delete("u", all_versions=True)


async def _chunks(parts: list[bytes], fail: bool = False) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    if fail:
        raise ConnectionResetError("client went away")


async def test_uploads_are_atomic_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    registry = Registry(_fresh(postgres_url), BlobStore(tmp_path / "blobs", max_bytes=10_000))
    data = example_onnx()
    stored = await registry.receive(UploadRequest(name="ex", format="onnx"), _chunks([data]))
    assert registry.get("ex").sha256 == stored.sha256 and registry.blobs.exists(stored.sha256)
    with pytest.raises(ConnectionResetError):
        await registry.receive(UploadRequest(name="cut", format="onnx"), _chunks([data[:40]], fail=True))
    with pytest.raises(ModelValidationFailed):
        await registry.receive(UploadRequest(name="bad", format="onnx"), _chunks([b"\1" * 100]))
    assert [r.name for r in registry.list()] == ["ex"]
    assert registry.store._run("SELECT count(*) FROM models").fetchone()[0] == 1
    assert sorted(p.name for p in registry.blobs.root.rglob("*") if p.is_file()) == [stored.sha256]


async def test_registry_process_keeps_metadata_in_postgres(postgres_url: str, tmp_path: Path) -> None:
    _fresh(postgres_url).close()
    registry = start_service("registry", tmp_path, env={"DATABASE_URL": postgres_url})
    try:
        async with grpc.aio.insecure_channel(registry.address) as channel:
            stub = rpb_grpc.RegistryServiceStub(channel)
            reply = await stub.ListModels(rpb.ListModelsRequest(), timeout=30)
        assert "example" in {m.name for m in reply.models}
        assert not (tmp_path / "registry.db").exists()  # nothing went to SQLite
        seen = PostgresModelStore(postgres_url)
        assert seen.get("example").source == "builtin"
        seen.close()
    finally:
        assert registry.terminate() == 0


def test_unique_names_do_not_collide(store: SqlModelStore) -> None:
    names = [f"n{uuid.uuid4().hex[:6]}" for _ in range(3)]
    for name in names:
        store.put(ModelRecord(name=name))
    assert sorted(r.name for r in store.list()) == sorted(names)
