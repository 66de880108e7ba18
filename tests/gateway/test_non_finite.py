"""Tensor values that strict JSON cannot write (NaN, ±Infinity, and what overflows FP32) come back
from every tensor surface as ``NaN``/``Infinity``/``-Infinity``, the way KServe v2, Triton and
Python's ``json`` write them, instead of an internal error. The built-in ``example`` model answers
2·x + 1."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest

from tests.procs import Mesh

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("path", "body", "values_of"),
    [
        (
            "/v1/models/example/predict",
            b'{"inputs": [[NaN, 1, Infinity, -Infinity, 1e39]]}',
            lambda reply: reply["outputs"][0],
        ),
        (
            "/predict",
            b'{"model_name": "example", "inputs": [NaN, 1, Infinity, -Infinity, 1e39]}',
            lambda reply: reply["result"],
        ),
        (
            "/v2/models/example/infer",
            b'{"inputs": [{"name": "INPUT", "shape": [1, 5], "datatype": "FP32",'
            b' "data": [NaN, 1, Infinity, -Infinity, 1e39]}]}',
            lambda reply: reply["outputs"][0]["data"],
        ),
    ],
)
def test_non_finite_values_are_written_as_python_and_triton_write_them(
    mesh: Mesh, path: str, body: bytes, values_of: Any
) -> None:
    reply = httpx.post(f"{mesh.base_url}{path}", content=body, headers=JSON, timeout=60)
    assert reply.status_code == 200, reply.text
    assert b"NaN" in reply.content and b"-Infinity" in reply.content
    values = values_of(json.loads(reply.content))
    assert math.isnan(values[0]) and values[1:] == [3.0, math.inf, -math.inf, math.inf]
