"""Small real models for the tests and the benchmark: an MLP exported from torch to ONNX and as
TorchScript, with the reference outputs of onnxruntime and torch run directly."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np


def mlp(seed: int = 0, width: int = 8):
    """A 4 → width → 3 MLP with fixed random weights."""
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, width), torch.nn.ReLU(), torch.nn.Linear(width, 3)).eval()


def onnx_bytes(model=None, features: int = 4) -> bytes:
    """The model exported to ONNX with a dynamic batch axis (input ``x``, output ``y``)."""
    import torch

    model = model if model is not None else mlp()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(1, features),),
            buffer,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    return buffer.getvalue()


def torchscript_bytes(model=None) -> bytes:
    """The model as a TorchScript archive."""
    import torch

    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(model if model is not None else mlp(1)), buffer)
    return buffer.getvalue()


def onnx_reference(data: bytes, x: np.ndarray) -> np.ndarray:
    """onnxruntime run directly."""
    import onnxruntime as ort

    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def torch_reference(data: bytes, x: np.ndarray) -> np.ndarray:
    """torch run directly on the TorchScript archive."""
    import torch

    module = torch.jit.load(io.BytesIO(data)).eval()
    with torch.inference_mode():
        return module(torch.from_numpy(x)).numpy()


def write(path: Path, data: bytes) -> Path:
    """Writes bytes and returns the path."""
    path.write_bytes(data)
    return path
