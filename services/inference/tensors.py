"""meshserve ``Tensor`` messages, tensors in their wire form and numpy arrays; input checks against
a model's declared signature.

On the prediction hot path a tensor stays in its wire form (:class:`WireTensor`: datatype, shape and
the bytes as the KServe binary extension carries them) from the gRPC message to Triton and back:
checking it against the signature reads only its datatype and shape, and nothing decodes its values
unless a cast is asked for.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from meshserve.v1 import common_pb2 as common
from services.common.errors import InvalidInput

#: KServe v2 datatype name → numpy dtype.
NUMPY_OF: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(np.object_),
}
NAME_OF_NUMPY = {v: k for k, v in NUMPY_OF.items()}
#: The wire byte order of each datatype (raw contents are little-endian).
_WIRE_DTYPE = {name: dtype.newbyteorder("<") for name, dtype in NUMPY_OF.items()}
#: ``DataType`` number → short name, looked up once instead of per tensor.
_DATATYPE_NAMES = {v.number: v.name.removeprefix("DATA_TYPE_") for v in common.DataType.DESCRIPTOR.values}
_DATATYPE_NUMBERS = {name: number for number, name in _DATATYPE_NAMES.items()}


def datatype_name(value: int) -> str:
    """``FP32`` for ``DATA_TYPE_FP32``."""
    name = _DATATYPE_NAMES.get(value)
    return name if name is not None else common.DataType.Name(value).removeprefix("DATA_TYPE_")


def pack_bytes(items: Iterable[bytes]) -> bytes:
    """BYTES elements in the KServe binary layout: each one after its 4-byte little-endian length."""
    return b"".join(struct.pack("<I", len(item)) + item for item in items)


def unpack_bytes(raw: bytes | memoryview) -> list[bytes]:
    """The BYTES elements of the KServe binary layout (inverse of :func:`pack_bytes`)."""
    items, offset = [], 0
    while offset < len(raw):
        (length,) = struct.unpack_from("<I", raw, offset)
        items.append(bytes(raw[offset + 4 : offset + 4 + length]))
        offset += 4 + length
    return items


def spec_json(specs: Iterable[common.TensorSpec]) -> list[dict[str, Any]]:
    """Tensor specs as KServe metadata lists them: ``{"name", "datatype": "FP32", "shape"}``."""
    return [{"name": s.name, "datatype": datatype_name(s.datatype), "shape": list(s.shape)} for s in specs]


@dataclass(frozen=True, slots=True)
class WireTensor:
    """One tensor as it travels: its KServe datatype name (``FP32``), shape, and contents in the
    binary extension's layout (numeric values little-endian; each BYTES element after its 4-byte
    little-endian length)."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    data: bytes | memoryview

    @classmethod
    def of_message(cls, tensor: common.Tensor) -> WireTensor:
        """A Tensor message's contents, checked to fill its shape; :class:`InvalidInput` otherwise."""
        if tensor.datatype not in _DATATYPE_NAMES:  # a client built against a newer contract
            raise InvalidInput(
                f"input {tensor.name!r} has an unknown datatype ({tensor.datatype})",
                details={"field": tensor.name, "datatype": tensor.datatype},
            )
        name, shape = datatype_name(tensor.datatype), tuple(tensor.shape)
        if name == "UNSPECIFIED":
            raise InvalidInput(f"input {tensor.name!r} has no datatype", details={"field": tensor.name})
        if any(d < 0 for d in shape):
            raise InvalidInput(
                f"input {tensor.name!r} has a negative dimension", details={"shape": list(shape)}
            )
        if name == "BYTES":
            count, data = len(tensor.bytes_contents), pack_bytes(tensor.bytes_contents)
        else:
            data, itemsize = tensor.raw_contents, NUMPY_OF[name].itemsize
            if len(data) % itemsize:
                raise InvalidInput(
                    f"input {tensor.name!r}: raw bytes are not a whole number of {name} values"
                )
            count = len(data) // itemsize
        if count != math.prod(shape):  # math.prod: np.prod costs microseconds on a tuple
            raise InvalidInput(
                f"input {tensor.name!r}: {count} values do not fill shape {list(shape)}",
                details={"field": tensor.name, "shape": list(shape), "values": count},
            )
        return cls(tensor.name, name, shape, data)

    @classmethod
    def of_numpy(cls, name: str, array: np.ndarray) -> WireTensor:
        """An array in wire form."""
        message = from_numpy(name, array)
        return cls.of_message(message)

    def message(self) -> common.Tensor:
        """The Tensor message carrying this tensor."""
        message = common.Tensor(name=self.name, datatype=_DATATYPE_NUMBERS[self.datatype], shape=self.shape)
        if self.datatype == "BYTES":
            message.bytes_contents.extend(unpack_bytes(self.data))
        else:
            message.raw_contents = bytes(self.data)
        return message

    def numpy(self) -> np.ndarray:
        """The values, decoded (only where a cast or a JSON rendering needs them)."""
        if self.datatype == "BYTES":
            return np.array(unpack_bytes(self.data), dtype=np.object_).reshape(self.shape)
        wire = np.frombuffer(self.data, dtype=_WIRE_DTYPE[self.datatype])
        return wire.astype(NUMPY_OF[self.datatype], copy=False).reshape(self.shape)

    def renamed(self, name: str) -> WireTensor:
        """The same tensor under another name."""
        return replace(self, name=name)


def to_numpy(tensor: common.Tensor) -> np.ndarray:
    """The array a Tensor message carries; :class:`InvalidInput` when its bytes do not fit."""
    name = datatype_name(tensor.datatype)
    shape = tuple(tensor.shape)
    if name == "UNSPECIFIED":
        raise InvalidInput(f"input {tensor.name!r} has no datatype", details={"field": tensor.name})
    if any(d < 0 for d in shape):
        raise InvalidInput(f"input {tensor.name!r} has a negative dimension", details={"shape": list(shape)})
    if name == "BYTES":
        array = np.array(list(tensor.bytes_contents), dtype=np.object_)
    else:
        dtype, raw = _WIRE_DTYPE[name], tensor.raw_contents
        if len(raw) % dtype.itemsize:
            raise InvalidInput(f"input {tensor.name!r}: raw bytes are not a whole number of {name} values")
        array = np.frombuffer(raw, dtype=dtype).astype(NUMPY_OF[name])
    if array.size != math.prod(shape):  # math.prod: np.prod costs microseconds on a tuple
        raise InvalidInput(
            f"input {tensor.name!r}: {array.size} values do not fill shape {list(shape)}",
            details={"field": tensor.name, "shape": list(shape), "values": array.size},
        )
    return array.reshape(shape)


def from_numpy(name: str, array: np.ndarray) -> common.Tensor:
    """A Tensor message carrying an array."""
    datatype = NAME_OF_NUMPY.get(array.dtype, "BYTES" if array.dtype.kind in "OSU" else None)
    if datatype is None:
        raise InvalidInput(f"unsupported dtype {array.dtype} for {name!r}")
    message = common.Tensor(name=name, datatype=common.DataType.Value(f"DATA_TYPE_{datatype}"))
    message.shape.extend(int(d) for d in array.shape)
    if datatype == "BYTES":
        message.bytes_contents.extend(
            v if isinstance(v, bytes) else str(v).encode() for v in array.reshape(-1).tolist()
        )
    else:
        message.raw_contents = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    return message


def concatenated(requests: list[list[WireTensor]]) -> list[WireTensor]:
    """The inputs of several requests with the same signature as one request: each input's rows
    after one another (in the binary layout, rows are consecutive runs of bytes)."""
    joined = []
    for parts in zip(*requests, strict=True):
        first = parts[0]
        rows = sum(part.shape[0] for part in parts)
        joined.append(
            WireTensor(first.name, first.datatype, (rows, *first.shape[1:]), b"".join(p.data for p in parts))
        )
    return joined


def split_rows(tensor: WireTensor, rows: list[int]) -> list[WireTensor]:
    """A fixed-size tensor's rows cut back into consecutive parts of ``rows`` rows each."""
    if tensor.datatype == "BYTES" or not tensor.shape or tensor.shape[0] != sum(rows):
        raise InvalidInput(
            f"output {tensor.name!r} of shape {list(tensor.shape)} cannot be split into rows {rows}"
        )
    row_bytes = len(tensor.data) // tensor.shape[0] if tensor.shape[0] else 0
    data = memoryview(tensor.data)
    parts, offset = [], 0
    for count in rows:
        end = offset + count * row_bytes
        parts.append(replace(tensor, shape=(count, *tensor.shape[1:]), data=data[offset:end]))
        offset = end
    return parts


def inputs_by_name(messages: Sequence[common.Tensor]) -> dict[str, WireTensor]:
    """A request's input tensors by name; a name given twice is the caller's error (a dict would
    keep the last one and run it silently)."""
    inputs = {t.name: WireTensor.of_message(t) for t in messages}
    if len(inputs) != len(messages):
        names = [t.name for t in messages]
        twice = next(n for n in names if names.count(n) > 1)
        raise InvalidInput(f"input {twice!r} is given more than once", details={"field": twice})
    return inputs


def conform(
    tensors: dict[str, WireTensor], declared: list[dict], *, cast: bool, model: str
) -> tuple[list[WireTensor], bool]:
    """Checks inputs against the declared signature; returns them in declared order and whether a
    leading batch dimension of one was added (an input lacking only that dimension is a batch of one).

    Reads datatypes and shapes only. ``cast`` converts untyped numbers (JSON) to the declared numeric
    type, the one case that decodes values; typed callers must send the declared type exactly.
    """
    if "" in tensors:
        if len(declared) != 1 or len(tensors) != 1:
            raise InvalidInput(
                f"model {model!r} takes {len(declared)} named inputs; name each input",
                details={"expected_inputs": ",".join(d["name"] for d in declared)},
            )
        tensors = {declared[0]["name"]: tensors[""].renamed(declared[0]["name"])}
    unknown = sorted(set(tensors) - {d["name"] for d in declared})
    if unknown:
        raise InvalidInput(
            f"model {model!r} has no input named {unknown[0]!r}",
            details={"field": unknown[0], "expected_inputs": ",".join(d["name"] for d in declared)},
        )
    out: list[WireTensor] = []
    added_batch = False
    for spec in declared:
        name = spec["name"]
        if name not in tensors:
            raise InvalidInput(f"model {model!r} needs input {name!r}", details={"field": name})
        tensor = tensors[name]
        if tensor.datatype != spec["datatype"]:
            converted = _cast(tensor.numpy(), NUMPY_OF[spec["datatype"]], spec["datatype"], name, cast)
            tensor = WireTensor.of_numpy(name, converted)
        dims = [int(d) for d in spec["shape"]]
        shape = tensor.shape
        if len(shape) == len(dims) - 1 and dims and dims[0] == -1:
            shape = (1, *shape)
            tensor = replace(tensor, shape=shape)
            added_batch = True
        if 0 in shape:  # Triton refuses an empty tensor with a message about its own byte counts
            raise InvalidInput(
                f"input {name!r} of model {model!r} is empty (shape {list(shape)})",
                details={"field": name, "shape": list(shape)},
                suggestion="send at least one row",
            )
        if len(shape) != len(dims) or any(d not in (-1, a) for d, a in zip(dims, shape, strict=True)):
            raise InvalidInput(
                f"input {name!r} of model {model!r} has shape {list(shape)}, expected {dims}",
                details={"field": name, "expected_shape": dims, "shape": list(shape)},
                suggestion="-1 marks a dimension of any size",
            )
        out.append(tensor)
    return out, added_batch


def _cast(array: np.ndarray, want: np.dtype, want_name: str, name: str, cast: bool) -> np.ndarray:
    got = NAME_OF_NUMPY.get(array.dtype, str(array.dtype))
    numeric = array.dtype.kind in "biuf" and want.kind in "biuf"
    if cast and numeric:
        converted = array.astype(want)
        if want.kind in "iub" and not np.array_equal(converted, array):
            raise InvalidInput(
                f"input {name!r} must be {want_name}: {got} values do not convert exactly",
                details={"field": name, "expected_datatype": want_name, "datatype": got},
            )
        return converted
    raise InvalidInput(
        f"input {name!r} has datatype {got}, expected {want_name}",
        details={"field": name, "expected_datatype": want_name, "datatype": got},
    )
