"""A registry killed with SIGKILL in the middle of an upload leaves nothing registered, and the next
start removes what the upload left on disk; the same upload then succeeds. Real processes, a real
socket, the same data directory across the restart."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from onnx import TensorProto, helper

from meshserve.grpc import status_of
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import registry_pb2 as rpb
from meshserve.v1 import registry_pb2_grpc as rpb_grpc
from tests.procs import ServiceProc, start_service

CHUNK = 1 << 20


def padded_onnx(megabytes: int) -> bytes:
    """A valid ONNX graph (OUTPUT = INPUT + 1) carrying an unused initializer of ``megabytes``."""
    x = helper.make_tensor_value_info("INPUT", TensorProto.FLOAT, ["batch", "n"])
    y = helper.make_tensor_value_info("OUTPUT", TensorProto.FLOAT, ["batch", "n"])
    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    count = megabytes * CHUNK // 4
    pad = helper.make_tensor("pad", TensorProto.FLOAT, [count], b"\0" * (count * 4), raw=True)
    graph = helper.make_graph(
        [helper.make_node("Add", ["INPUT", "one"], ["OUTPUT"])], "padded", [x], [y], [one, pad]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


async def _requests(data: bytes, pause: float = 0.0) -> AsyncIterator[rpb.UploadModelRequest]:
    header = rpb.UploadHeader(name="big", format=common.MODEL_FORMAT_ONNX, filename="big.onnx")
    yield rpb.UploadModelRequest(header=header)
    for start in range(0, len(data), CHUNK):
        yield rpb.UploadModelRequest(chunk=data[start : start + CHUNK])
        if pause:
            await asyncio.sleep(pause)


def _files(data_dir: Path) -> tuple[list[str], list[str]]:
    """(temporary files, blob names) in the blob store."""
    blobs = data_dir / "blobs"
    return (
        sorted(p.name for p in (blobs / "tmp").iterdir()),
        sorted(p.name for p in blobs.glob("??/*")),
    )


def _rows(data_dir: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(data_dir / "registry.db") as db:
        return db.execute("SELECT name, version, status FROM models ORDER BY name").fetchall()


async def _names(registry: ServiceProc) -> set[str]:
    async with grpc.aio.insecure_channel(registry.address) as channel:
        reply = await rpb_grpc.RegistryServiceStub(channel).ListModels(rpb.ListModelsRequest(), timeout=30)
    return {m.name for m in reply.models}


async def test_kill_9_mid_upload_leaves_nothing_and_the_upload_can_be_retried(tmp_path: Path) -> None:
    data = padded_onnx(48)
    registry = start_service("registry", tmp_path)
    _, before = _files(tmp_path)  # the built-in example's blob
    try:
        async with grpc.aio.insecure_channel(registry.address) as channel:
            stub = rpb_grpc.RegistryServiceStub(channel)
            call = asyncio.ensure_future(stub.UploadModel(_requests(data, pause=0.05), timeout=120))
            deadline = time.monotonic() + 30
            partial = 0
            while partial < 8 * CHUNK:  # the registry holds part of the artifact
                assert time.monotonic() < deadline, "the upload did not progress"
                await asyncio.sleep(0.05)
                parts = list((tmp_path / "blobs" / "tmp").glob("*.part"))
                partial = parts[0].stat().st_size if parts else 0
            assert partial < len(data)
            registry.process.send_signal(signal.SIGKILL)
            assert registry.process.wait(10) == -signal.SIGKILL
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await call
            # UNAVAILABLE, or grpc-core's INTERNAL for a send that met the broken connection
            assert status_of(failed.value) == grpc.StatusCode.UNAVAILABLE
    finally:
        if registry.process.poll() is None:
            registry.process.kill()
    # What the kill left: a partial temporary file, and no row for the upload.
    temporary, blobs = _files(tmp_path)
    assert len(temporary) == 1 and blobs == before
    assert [row for row in _rows(tmp_path) if row[0] == "big"] == []

    registry = start_service("registry", tmp_path)
    try:
        assert _files(tmp_path) == ([], before)  # swept at start
        assert "big" not in await _names(registry)
        async with grpc.aio.insecure_channel(registry.address) as channel:
            stub = rpb_grpc.RegistryServiceStub(channel)
            stored = (await stub.UploadModel(_requests(data), timeout=120)).model
            assert (stored.name, stored.version) == ("big", "1")  # the killed upload took no version
            download = stub.DownloadArtifact(
                rpb.DownloadArtifactRequest(ref=common.ModelRef(name="big")), timeout=60
            )
            digest = hashlib.sha256()
            async for part in download:
                digest.update(part.chunk)
        assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
        assert "big" in await _names(registry)
        assert _files(tmp_path) == ([], sorted([*before, digest.hexdigest()]))
    finally:
        assert registry.terminate() == 0


async def test_start_sweeps_dead_uploads_but_not_live_ones(tmp_path: Path) -> None:
    """What a kill between the rename and the row leaves (a blob no row references) is removed at
    start, as is a dead writer's temporary file; a file another replica's upload holds is kept."""
    first = start_service("registry", tmp_path)
    assert first.terminate() == 0
    _, before = _files(tmp_path)
    blobs = tmp_path / "blobs"
    orphan = blobs / "ab" / ("ab" + "0" * 62)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"renamed, never registered")
    (blobs / "tmp" / "dead.part").write_bytes(b"half")
    with (blobs / "tmp" / "live.part").open("wb") as live:
        fcntl.flock(live.fileno(), fcntl.LOCK_EX)  # a writer in another process, still going
        registry = start_service("registry", tmp_path)
        try:
            assert _files(tmp_path) == (["live.part"], before)
        finally:
            assert registry.terminate() == 0
