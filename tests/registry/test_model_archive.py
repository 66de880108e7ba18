"""Model directory archives: one top-level folder looked through, pickles never extracted, unsafe
members refused before anything is written."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from services.common.model_archive import ModelArchive, UnsafeArchive


def write_tar(path: Path, files: dict[str, bytes], link: str = "") -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(link)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            archive.addfile(info)
    return path


def test_top_folder_is_looked_through_and_pickles_are_left_out(tmp_path: Path) -> None:
    files = {"m/config.json": b"{}", "m/sub/model.safetensors": b"x", "m/pytorch_model.bin": b"\x80\x04."}
    archive = write_tar(tmp_path / "m.tgz", files)
    with ModelArchive(archive) as opened:
        assert opened.names() == {"config.json", "sub/model.safetensors", "pytorch_model.bin"}
        with opened.open("config.json") as handle:
            assert handle.read() == b"{}"
        opened.extract(tmp_path / "out")
    written = sorted(
        str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file()
    )
    assert written == ["config.json", "sub/model.safetensors"]


@pytest.mark.parametrize("name", ["../escape.json", "/abs/config.json", "a/../../b.json"])
def test_members_that_climb_out_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(name, b"{}")
    with pytest.raises(UnsafeArchive, match="outside the model directory"):
        ModelArchive(path)


def test_links_are_refused(tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "link.tgz", {"config.json": b"{}"}, link="tokenizer.json")
    with pytest.raises(UnsafeArchive, match="link"):
        ModelArchive(archive)
