"""JSON values ↔ canonical Tensor messages, and the predict and upload calls that documents 000
and 001 share (so their dialect modules only shape responses)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import numpy as np
from fastapi import UploadFile
from fastapi.responses import JSONResponse

from gateway.clients import MeshClients
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import registry_pb2 as rpb
from services.common.clients import call_metadata
from services.common.context import remaining_seconds
from services.common.errors import InvalidInput, MeshError
from services.inference.tensors import from_numpy, to_numpy

CHUNK = 1 << 20
#: Deadline of one upload (large artifacts take a while to validate).
UPLOAD_TIMEOUT = 600.0
FORMATS = {
    "": common.MODEL_FORMAT_UNSPECIFIED,
    "onnx": common.MODEL_FORMAT_ONNX,
    "torchscript": common.MODEL_FORMAT_TORCHSCRIPT,
    "pytorch": common.MODEL_FORMAT_PYTORCH,
    "gguf": common.MODEL_FORMAT_GGUF,
    "transformers": common.MODEL_FORMAT_TRANSFORMERS,
}


def json_tensor(name: str, value: Any) -> common.Tensor:
    """A JSON value (number, nested list, string) as a Tensor; numbers travel as INT64/FP64/BOOL
    and the inference service casts them to the declared type (``cast_inputs``)."""
    try:
        array = np.asarray(value)
    except ValueError as error:
        raise InvalidInput(
            f"inputs must be a rectangular nested list: {error}", details={"field": "inputs"}
        ) from None
    if array.dtype.kind in "US":
        array = array.astype(np.object_)
    elif array.dtype.kind == "O":
        raise InvalidInput(
            "inputs must be a rectangular nested list of numbers or strings", details={"field": "inputs"}
        )
    elif array.dtype.kind == "i":
        array = array.astype(np.int64)
    elif array.dtype.kind == "f":
        array = array.astype(np.float64)
    return from_numpy(name, array)


class TensorResponse(JSONResponse):
    """A JSON answer carrying tensor values: NaN and ±Infinity are written as ``NaN``,
    ``Infinity`` and ``-Infinity``, as the KServe v2 surface, Triton and Python's ``json`` write
    them (a model's output can hold them, and strict JSON has no way to say them)."""

    def render(self, content: Any) -> bytes:
        """The content as compact UTF-8 JSON, non-finite floats included."""
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def tensor_json(tensor: common.Tensor) -> Any:
    """A Tensor as a JSON value (nested lists; BYTES as text)."""
    array = to_numpy(tensor)
    if array.dtype == np.object_:
        return np.vectorize(lambda b: b.decode("utf-8", "replace") if isinstance(b, bytes) else b)(
            array
        ).tolist()
    return array.tolist()


def outputs_json(reply: ipb.PredictResponse) -> Any:
    """The outputs of a reply: the single output's values, or ``{name: values}`` for several."""
    if len(reply.outputs) == 1:
        return tensor_json(reply.outputs[0])
    return {t.name: tensor_json(t) for t in reply.outputs}


def named_inputs(inputs: Any) -> list[common.Tensor]:
    """``{"name": values}`` gives named inputs; any other value is the model's single input."""
    if isinstance(inputs, dict):
        return [json_tensor(name, value) for name, value in inputs.items()]
    return [json_tensor("", inputs)]


async def predict(clients: MeshClients, model: str, inputs: Any, request_id: str = "") -> ipb.PredictResponse:
    """Runs ``Inference.Predict`` with JSON inputs."""
    if inputs is None:
        raise InvalidInput("inputs is required", details={"field": "inputs"})
    request = ipb.PredictRequest(
        model=common.ModelRef(name=model),
        inputs=named_inputs(inputs),
        cast_inputs=True,
        request_id=request_id,
    )
    return await clients.predict(request)


async def upload(
    clients: MeshClients,
    name: str,
    fmt: str,
    file: UploadFile,
    labels: dict[str, str] | None = None,
    version: str = "",
) -> common.Model:
    """Streams a multipart file into ``Registry.UploadModel`` in 1 MiB chunks."""
    key = (fmt or "").lower()
    if key not in FORMATS:
        raise InvalidInput(
            f"unsupported format {fmt!r}; supported: onnx, torchscript, pytorch, gguf, transformers",
            details={"field": "format"},
        )
    header = rpb.UploadHeader(
        name=name, format=FORMATS[key], filename=file.filename or "", labels=labels or {}, version=version
    )

    async def messages() -> AsyncIterator[rpb.UploadModelRequest]:
        yield rpb.UploadModelRequest(header=header)
        while chunk := await file.read(CHUNK):
            yield rpb.UploadModelRequest(chunk=chunk)

    try:
        reply = await clients.registry.UploadModel(
            messages(), timeout=remaining_seconds(UPLOAD_TIMEOUT), metadata=call_metadata()
        )
    except grpc.aio.AioRpcError as error:
        raise MeshError.from_rpc_error(error) from None
    return reply.model
