"""ONNX optimisation in process: an optimised version optimised again, at every level with and
without FP16 (what 000's ``use_fp16`` followed by 003's ``"quantization": "16-bit"`` asks, among
others), stays one valid model that computes what the original does."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import onnx
import pytest

from services.registry.optimization import optimize_onnx, plan
from tests.inference.models import mlp, onnx_bytes, onnx_reference

PLANS = {
    "basic": plan("inference", "basic", {}),
    "aggressive": plan("inference", "aggressive", {}),
    "standard+fp16 (000)": plan("inference", "standard", {"use_fp16": "true"}),
    "aggressive+fp16 (000)": plan("inference", "aggressive", {"use_fp16": "true"}),
    "16-bit (003)": plan("inference", "", {"quantization": "16-bit"}),
}


@pytest.mark.parametrize(("first", "second"), list(itertools.product(PLANS, repeat=2)))
def test_an_optimised_version_optimised_again_is_one_valid_model(
    tmp_path: Path, first: str, second: str
) -> None:
    # 64 wide: onnxruntime's "all" level then folds the casts before FP16 weights into FP32 copies.
    original, once, twice = tmp_path / "original.onnx", tmp_path / "once.onnx", tmp_path / "twice.onnx"
    original.write_bytes(onnx_bytes(mlp(3, width=64)))
    optimize_onnx(original, once, PLANS[first])

    applied = optimize_onnx(once, twice, PLANS[second])

    both_fp16 = PLANS[first].fp16 and PLANS[second].fp16
    assert applied[-1].startswith("weights already FP16") is both_fp16, applied
    assert ("converted to FP16" in applied[-1]) is (PLANS[second].fp16 and not both_fp16), applied
    model = onnx.load(str(twice))
    onnx.checker.check_model(model)  # nodes in topological order: no cycle
    names = [node.name for node in model.graph.node]
    assert len(names) == len(set(names)), names  # the converter's casts are never added twice
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    tolerance = 2e-2 if PLANS[first].fp16 or PLANS[second].fp16 else 1e-5
    got = onnx_reference(twice.read_bytes(), x)
    np.testing.assert_allclose(got, onnx_reference(original.read_bytes(), x), rtol=tolerance, atol=tolerance)
