"""Registry core without transport: validation reasons, the blob store's atomic writes, and an
interrupted upload leaving no row and no blob."""

from __future__ import annotations

import asyncio
import os
import pickle
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.common.errors import AlreadyExists, InvalidInput, ModelValidationFailed, PayloadTooLarge
from services.registry.blobs import BlobStore
from services.registry.builtins import example_onnx
from services.registry.catalog import Registry, UploadRequest
from services.registry.store import ModelRecord, ModelStore
from services.registry.validation import validate
from tests.inference.models import torchscript_bytes


def test_example_graph_signature(tmp_path: Path) -> None:
    path = tmp_path / "example.onnx"
    path.write_bytes(example_onnx())
    checked = validate(path, "onnx")
    assert checked.inputs == [{"name": "INPUT", "datatype": "FP32", "shape": [-1, -1]}]
    assert checked.outputs == [{"name": "OUTPUT", "datatype": "FP32", "shape": [-1, -1]}]


@pytest.mark.parametrize(
    ("data", "declared", "reason"),
    [
        (b"", "onnx", "empty"),
        (pickle.dumps({"a": 1}), "pytorch", "pickle"),
        (os.urandom(2048), "onnx", "ONNX"),
        (example_onnx()[:60], "onnx", "ONNX"),
    ],
)
def test_bad_artifacts(tmp_path: Path, data: bytes, declared: str, reason: str) -> None:
    path = tmp_path / "model"
    path.write_bytes(data)
    with pytest.raises(ModelValidationFailed) as caught:
        validate(path, declared)
    assert reason.lower() in caught.value.message.lower()


def test_onnx_declared_torchscript_is_a_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "model"
    path.write_bytes(example_onnx())
    with pytest.raises(ModelValidationFailed, match="does not match"):
        validate(path, "torchscript")


@pytest.mark.parametrize("shape", ["a,b", "-1,4.5", "0,4", "-1,-2", "-1,4;x"])
def test_a_malformed_torchscript_input_shape_is_the_caller_s_error(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(torchscript_bytes())
    with pytest.raises(InvalidInput) as refused:
        validate(path, "torchscript", {"input_shape": shape})
    assert refused.value.details == {"field": "input_shape"}
    assert "input_shape" in refused.value.message and "Traceback" not in refused.value.message


async def _chunks(parts: list[bytes], fail_after: int = -1) -> AsyncIterator[bytes]:
    for index, part in enumerate(parts):
        if index == fail_after:
            raise ConnectionResetError("client went away")
        yield part


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(ModelStore(tmp_path / "r.db"), BlobStore(tmp_path / "blobs", max_bytes=1000))


def _leftovers(registry: Registry) -> tuple[int, list[Path]]:
    return len(registry.list()), list(registry.blobs.root.rglob("*.part")) + list(
        registry.blobs.root.glob("??/*")
    )


async def test_good_upload_stores_blob_and_row(registry: Registry) -> None:
    data = example_onnx()
    record = await registry.receive(
        UploadRequest(name="ex", format="onnx"), _chunks([data[:100], data[100:]])
    )
    assert (
        record.status == "ready" and registry.blobs.exists(record.sha256) and record.size_bytes == len(data)
    )


@pytest.mark.parametrize("case", ["interrupted", "too-large", "invalid", "bad-name", "bad-version"])
async def test_failed_uploads_leave_nothing(registry: Registry, case: str) -> None:
    data = example_onnx()
    header, parts, fail_after, error = (
        UploadRequest(name="ex", format="onnx"),
        [data[:50], data[50:]],
        -1,
        Exception,
    )
    if case == "interrupted":
        fail_after, error = 1, ConnectionResetError
    elif case == "too-large":
        parts, error = [b"\0" * 600, b"\0" * 600], PayloadTooLarge
    elif case == "invalid":
        parts, error = [b"\1" * 100], ModelValidationFailed
    elif case == "bad-name":
        header, error = UploadRequest(name="../ex", format="onnx"), InvalidInput
    else:  # a label naming a directory elsewhere, or one that would be rewritten into another's
        header, error = UploadRequest(name="ex", format="onnx", version="../../x"), InvalidInput
    with pytest.raises(error):
        await registry.receive(header, _chunks(parts, fail_after))
    assert _leftovers(registry) == (0, [])


async def test_an_explicit_version_label_is_kept_and_replaces_its_namesake(registry: Registry) -> None:
    data = example_onnx()
    first = await registry.receive(
        UploadRequest(name="ex", format="onnx", version="2024-06"), _chunks([data])
    )
    assert first.version == "2024-06" and registry.get("ex", "2024-06").id == first.id
    again = await registry.receive(
        UploadRequest(name="ex", format="onnx", version="2024-06"), _chunks([data])
    )
    assert [r.version for r in registry.store.versions("ex")] == ["2024-06"] and again.version == "2024-06"


async def test_concurrent_uploads_of_one_name_get_their_own_versions(registry: Registry) -> None:
    data = example_onnx()
    stored = await asyncio.gather(
        *(registry.receive(UploadRequest(name="ex", format="onnx"), _chunks([data])) for _ in range(3))
    )
    assert sorted(r.version for r in stored) == ["1", "2", "3"]
    assert registry.get("ex").version == "3" and list(registry.blobs.tmp.iterdir()) == []


async def test_a_built_in_name_takes_no_upload_but_its_own_derived_versions(registry: Registry) -> None:
    """An upload (also an explicit version "1") under a built-in name would replace what every
    caller of that name gets; an optimisation of the built-in model is its next version."""
    data = example_onnx()
    registry.store.put(ModelRecord(name="ex", source="builtin", sha256="0" * 64))
    for version in ("", "1"):
        with pytest.raises(InvalidInput, match="'ex' is built in") as refused:
            await registry.receive(UploadRequest(name="ex", version=version, format="onnx"), _chunks([data]))
        assert refused.value.details["field"] == "name"
    assert [(r.version, r.source) for r in registry.store.versions("ex")] == [("1", "builtin")]
    assert _leftovers(registry)[1] == []
    derived = UploadRequest(name="ex", format="onnx", source="optimization", optimized=True)
    assert (await registry.receive(derived, _chunks([data]))).version == "2"


async def test_a_name_s_versions_stay_one_kind_of_model(registry: Registry) -> None:
    registry.store.put(ModelRecord(name="chat", format="gguf", task="text-generation", source="upload"))
    with pytest.raises(
        AlreadyExists, match="'chat' is a language model \\(gguf\\); this file is a tensor model"
    ):
        await registry.receive(UploadRequest(name="chat", format="onnx"), _chunks([example_onnx()]))
    assert [r.version for r in registry.list()] == ["1"] and _leftovers(registry)[1] == []
    data = example_onnx()  # a tensor model under a tensor model's name is its next version
    await registry.receive(UploadRequest(name="ex", format="onnx"), _chunks([data]))
    assert (await registry.receive(UploadRequest(name="ex", format="onnx"), _chunks([data]))).version == "2"
