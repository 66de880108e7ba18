"""Runs in its own process: loads a TorchScript archive and prints its signature as one JSON line.

Usage: ``python -m services.registry.torchscript_probe <path> <options-json>``. Options:
``input_shape`` (e.g. ``-1,4``; ``;`` between inputs) and ``input_dtype`` (default ``FP32``).
A dimension of -1 is run as 1 in the trial and stays variable in the signature.
"""

from __future__ import annotations

import json
import sys

DTYPES = {"FP32": "float32", "FP64": "float64", "FP16": "float16", "INT64": "int64", "INT32": "int32"}


def input_shapes(text: str) -> list[list[int]]:
    """``input_shape`` as one shape per input; ValueError saying what is wrong with it."""
    shapes = []
    for part in text.split(";"):
        if not part.strip():
            continue
        try:
            shape = [int(d) for d in part.split(",") if d.strip()]
        except ValueError:
            raise ValueError(
                f"input_shape {part.strip()!r} is not whole numbers separated by commas"
            ) from None
        if any(d == 0 or d < -1 for d in shape):
            raise ValueError(f"input_shape {part.strip()!r}: each dimension is a size of at least 1, or -1")
        shapes.append(shape)
    return shapes


def probe(path: str, options: dict[str, str]) -> dict:
    """The archive's signature, or ``{"error": ...}``."""
    import torch

    try:
        module = torch.jit.load(path, map_location="cpu").eval()
    except Exception as error:
        return {"error": f"not a loadable TorchScript archive: {str(error).splitlines()[0][:300]}"}
    arguments = [a.name for a in module.forward.schema.arguments[1:]]
    try:
        shapes = input_shapes(options.get("input_shape", ""))
    except ValueError as error:
        return {"error": str(error)}
    dtype = options.get("input_dtype", "FP32").upper()
    if dtype not in DTYPES:
        return {"error": f"input_dtype {dtype!r} is not one of {sorted(DTYPES)}"}
    if not shapes:
        return {
            "error": "a TorchScript archive does not record its input shapes; give input_shape "
            "(for example -1,4 where -1 is the batch dimension)",
            "suggestion": "send input_shape with the upload",
        }
    if len(shapes) != len(arguments):
        return {
            "error": f"forward takes {len(arguments)} inputs ({', '.join(arguments)}) but {len(shapes)} shapes were given"
        }
    torch_dtype = getattr(torch, DTYPES[dtype])
    trial = [torch.zeros([1 if d == -1 else d for d in shape], dtype=torch_dtype) for shape in shapes]
    try:
        with torch.inference_mode():
            result = module(*trial)
    except Exception as error:
        return {"error": f"a trial run on zeros of shape {shapes} failed: {str(error).splitlines()[0][:300]}"}
    results = list(result) if isinstance(result, (tuple, list)) else [result]
    names = ["output"] if len(results) == 1 else [f"output_{i}" for i in range(len(results))]
    kind = {
        torch.float32: "FP32",
        torch.float64: "FP64",
        torch.float16: "FP16",
        torch.int64: "INT64",
        torch.int32: "INT32",
        torch.bool: "BOOL",
    }
    outputs = []
    for name, tensor in zip(names, results, strict=True):
        if not isinstance(tensor, torch.Tensor) or tensor.dtype not in kind:
            return {"error": f"forward must return tensors; output {name!r} is {type(tensor).__name__}"}
        batch_variable = bool(shapes) and shapes[0] and shapes[0][0] == -1
        dims = list(tensor.shape)
        if batch_variable and dims:
            dims[0] = -1
        outputs.append({"name": name, "datatype": kind[tensor.dtype], "shape": dims})
    inputs = [{"name": n, "datatype": dtype, "shape": s} for n, s in zip(arguments, shapes, strict=True)]
    parameters = sum(p.numel() for p in module.parameters())
    return {"inputs": inputs, "outputs": outputs, "labels": {"parameters": str(parameters)}}


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1], json.loads(sys.argv[2]))))
