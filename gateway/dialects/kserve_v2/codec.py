"""KServe v2 / Open Inference Protocol REST bodies ↔ canonical Tensor messages, including
Triton's binary tensor extension (``Inference-Header-Content-Length``, ``binary_data_size``)
that ``tritonclient.http`` uses by default."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from meshserve.v1 import common_pb2 as common
from services.common.errors import InvalidInput
from services.inference.tensors import NUMPY_OF, datatype_name, from_numpy, pack_bytes, to_numpy, unpack_bytes

HEADER = "inference-header-content-length"


def split_body(
    body: bytes, header_length: str | None, content_type: str = ""
) -> tuple[dict[str, Any], bytes]:
    """The JSON part and the binary tail of a request.

    Plain requests are JSON; the binary tensor extension announces its JSON header's length and
    may be sent as ``application/octet-stream``. Anything else is refused up front.
    """
    media = content_type.split(";")[0].strip().lower()
    if media and "json" not in media and not (header_length and media == "application/octet-stream"):
        raise InvalidInput(
            f"unsupported Content-Type {media!r}: send application/json "
            "(or application/octet-stream with Inference-Header-Content-Length)",
            details={"field": "Content-Type"},
        )
    try:
        if header_length:
            size = int(header_length) if header_length.isdigit() else -1
            if not 0 < size <= len(body):
                raise InvalidInput(
                    f"Inference-Header-Content-Length must be the JSON header's size in bytes, 1 to "
                    f"{len(body)} here; got {header_length[:20]!r}",
                    details={"field": "Inference-Header-Content-Length"},
                )
            payload, tail = json.loads(body[:size]), body[size:]
        else:
            payload, tail = json.loads(body or b"{}"), b""
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(f"malformed JSON in inference request: {error}") from None
    return _checked(payload), tail


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked(payload: Any) -> dict[str, Any]:
    """The request's JSON when it has the v2 shape around its tensors: an object whose
    ``parameters`` is an object and whose ``outputs`` are objects naming an output."""
    if not isinstance(payload, dict):
        raise InvalidInput("the inference request must be a JSON object", details={"field": "body"})
    if not isinstance(payload.get("parameters") or {}, dict):
        raise InvalidInput("parameters must be an object", details={"field": "parameters"})
    outputs = payload.get("outputs") or []
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict)
        and isinstance(o.get("name", ""), str)
        and isinstance(o.get("parameters") or {}, dict)
        for o in outputs
    ):
        raise InvalidInput(
            "outputs must be a list of objects with a name (and optional parameters)",
            details={"field": "outputs"},
        )
    return payload


def request_tensors(payload: dict[str, Any], binary: bytes) -> list[common.Tensor]:
    """The ``inputs`` of a v2 request as Tensor messages (datatypes kept exactly)."""
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InvalidInput("inputs must be a non-empty list", details={"field": "inputs"})
    tensors, offset = [], 0
    for item in inputs:
        if not isinstance(item, dict) or not isinstance(item.get("parameters") or {}, dict):
            raise InvalidInput("each input must be an object", details={"field": "inputs"})
        try:
            name, datatype, shape = item["name"], str(item["datatype"]).upper(), item["shape"]
        except KeyError:
            raise InvalidInput(
                "each input needs name, shape and datatype", details={"field": "inputs"}
            ) from None
        if not isinstance(name, str) or not isinstance(shape, list) or not all(_whole(d) for d in shape):
            # int() would have read a shape of [1, 2.5] as [1, 2] and run it
            raise InvalidInput(
                "each input needs a string name and a shape of whole numbers", details={"field": "inputs"}
            )
        if datatype not in NUMPY_OF:
            raise InvalidInput(f"unknown datatype {datatype!r}", details={"field": name})
        size = (item.get("parameters") or {}).get("binary_data_size")
        message = common.Tensor(
            name=name, datatype=common.DataType.Value(f"DATA_TYPE_{datatype}"), shape=shape
        )
        if size is not None:
            if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= len(binary) - offset:
                raise InvalidInput(
                    f"input {name!r}: binary_data_size must be a byte count within the request's binary part",
                    details={
                        "field": name,
                        "binary_data_size": str(size),
                        "binary_bytes_left": len(binary) - offset,
                    },
                )
            raw = binary[offset : offset + size]
            offset += size
            if datatype == "BYTES":
                message.bytes_contents.extend(unpack_bytes(raw))
            else:
                message.raw_contents = raw
        else:
            data = item.get("data")
            if data is None:
                raise InvalidInput(f"input {name!r} has no data", details={"field": name})
            if datatype == "BYTES":
                flat = np.asarray(data, dtype=np.object_).reshape(-1)
                message.bytes_contents.extend(v.encode() if isinstance(v, str) else bytes(v) for v in flat)
            else:
                try:
                    array = np.asarray(data, dtype=NUMPY_OF[datatype])
                except (TypeError, ValueError):
                    raise InvalidInput(
                        f"input {name!r}: data does not match {datatype}", details={"field": name}
                    ) from None
                message.raw_contents = np.ascontiguousarray(
                    array.reshape(-1), dtype=array.dtype.newbyteorder("<")
                ).tobytes()
        tensors.append(message)
    if offset != len(binary):  # as Triton: bytes no input claims are a malformed request
        raise InvalidInput(
            f"the request's binary part holds {len(binary) - offset} bytes after its inputs' data",
            details={"field": "inputs", "binary_bytes_left": len(binary) - offset},
        )
    return tensors


def wants_binary(payload: dict[str, Any], name: str) -> bool:
    """Whether an output was asked for in binary form."""
    for item in payload.get("outputs") or []:
        if item.get("name") == name:
            return bool((item.get("parameters") or {}).get("binary_data", False))
    return bool((payload.get("parameters") or {}).get("binary_data_output", False))


def response_body(
    payload: dict[str, Any], model: str, version: str, request_id: str, outputs: list[common.Tensor]
) -> tuple[bytes, int | None]:
    """The v2 response (JSON, then binary outputs); the JSON length when binary parts follow."""
    rendered, tail = [], b""
    for tensor in outputs:
        item: dict[str, Any] = {
            "name": tensor.name,
            "datatype": datatype_name(tensor.datatype),
            "shape": list(tensor.shape),
        }
        if wants_binary(payload, tensor.name):
            if tensor.datatype == common.DATA_TYPE_BYTES:
                raw = pack_bytes(tensor.bytes_contents)
            else:
                raw = tensor.raw_contents
            item["parameters"] = {"binary_data_size": len(raw)}
            tail += raw
        else:
            array = to_numpy(tensor)
            if array.dtype == np.object_:
                item["data"] = [b.decode("utf-8", "replace") for b in array.reshape(-1)]
            else:
                item["data"] = array.reshape(-1).tolist()
        rendered.append(item)
    head = json.dumps(
        {"model_name": model, "model_version": version, "id": request_id, "outputs": rendered}
    ).encode()
    return head + tail, (len(head) if tail else None)


__all__ = ["HEADER", "from_numpy", "request_tensors", "response_body", "split_body"]
