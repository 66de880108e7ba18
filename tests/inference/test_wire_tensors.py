"""What a Tensor message must be before the inference service reads it: each refusal is the
caller's INVALID_ARGUMENT naming the input, never an internal error."""

from __future__ import annotations

import re

import pytest

from meshserve.v1 import common_pb2 as common
from services.common.errors import InvalidInput
from services.inference.tensors import WireTensor, inputs_by_name

FP32 = common.DataType.Value("DATA_TYPE_FP32")


@pytest.mark.parametrize(
    ("tensor", "words"),
    [
        (common.Tensor(name="x", datatype=99, shape=[1, 2]), "unknown datatype (99)"),
        (common.Tensor(name="x", shape=[1, 2]), "has no datatype"),
        (common.Tensor(name="x", datatype=FP32, shape=[-1, 2]), "negative dimension"),
        (common.Tensor(name="x", datatype=FP32, shape=[1, 2], raw_contents=b"\0" * 7), "whole number"),
        (common.Tensor(name="x", datatype=FP32, shape=[1, 3], raw_contents=b"\0" * 8), "do not fill shape"),
    ],
)
def test_a_malformed_tensor_is_the_caller_s_error(tensor: common.Tensor, words: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(words)):
        WireTensor.of_message(tensor)


def test_inputs_are_read_by_name_and_a_repeated_name_is_refused() -> None:
    x = common.Tensor(name="x", datatype=FP32, shape=[1], raw_contents=b"\0" * 4)
    y = common.Tensor(name="y", datatype=FP32, shape=[1], raw_contents=b"\0" * 4)
    assert list(inputs_by_name([x, y])) == ["x", "y"]
    with pytest.raises(InvalidInput, match="'x' is given more than once") as refused:
        inputs_by_name([x, y, x])
    assert refused.value.details == {"field": "x"}
