"""ONNX optimisation in process: an FP16 version optimised to FP16 again (what 000's ``use_fp16``
followed by 003's ``"quantization": "16-bit"`` asks) stays one valid model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from services.registry.optimization import optimize_onnx, plan
from tests.inference.models import mlp, onnx_bytes, onnx_reference


@pytest.fixture
def fp32_model(tmp_path: Path) -> Path:
    path = tmp_path / "fp32.onnx"
    path.write_bytes(onnx_bytes(mlp(3, width=16)))
    return path


def test_an_fp16_version_optimised_to_fp16_again_is_not_converted_twice(
    fp32_model: Path, tmp_path: Path
) -> None:
    once, twice = tmp_path / "once.onnx", tmp_path / "twice.onnx"
    fp16_by_000 = plan("inference", "aggressive", {"use_fp16": "true"})
    fp16_by_003 = plan("inference", "", {"quantization": "16-bit"})
    assert "FP16" in optimize_onnx(fp32_model, once, fp16_by_000)[-1]

    applied = optimize_onnx(once, twice, fp16_by_003)

    assert applied[-1].startswith("weights already FP16")
    model = onnx.load(str(twice))
    onnx.checker.check_model(model)  # nodes in topological order: no cycle
    names = [node.name for node in model.graph.node]
    assert len(names) == len(set(names)), names  # the converter's casts are not added a second time
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    expected = onnx_reference(fp32_model.read_bytes(), x)
    np.testing.assert_allclose(onnx_reference(twice.read_bytes(), x), expected, rtol=2e-2, atol=2e-2)
    np.testing.assert_array_equal(onnx_reference(twice.read_bytes(), x), onnx_reference(once.read_bytes(), x))
