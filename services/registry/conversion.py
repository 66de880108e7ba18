"""PyTorch → ONNX conversion (document 000's ``ModelConverter.pytorch_to_onnx``): a stored
TorchScript model is exported with ``torch.onnx.export`` in a separate process, then stored and
validated as a new ONNX model version. No transport imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from services.common.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]

_SCRIPT = r"""
import json, sys, torch
src, dst, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
module = torch.jit.load(src, map_location="cpu").eval()
dtypes = {"FP32": torch.float32, "FP64": torch.float64, "INT64": torch.int64, "INT32": torch.int32}
args = tuple(torch.zeros([1 if d == -1 else d for d in i["shape"]], dtype=dtypes[i["datatype"]]) for i in spec["inputs"])
names_in = [i["name"] for i in spec["inputs"]]
names_out = [o["name"] for o in spec["outputs"]]
axes = {n: {0: "batch"} for n in names_in + names_out if spec["batch"]}
torch.onnx.export(module, args, dst, input_names=names_in, output_names=names_out, opset_version=spec["opset"],
                  dynamic_axes=axes or None, dynamo=False)
print(json.dumps({"ok": True}))
"""


def torchscript_to_onnx(
    source: Path, target: Path, inputs: list[dict], outputs: list[dict], opset: int
) -> None:
    """Exports a TorchScript archive to ONNX at ``target``; INVALID_INPUT with the reason on failure."""
    batch = all(t["shape"] and t["shape"][0] == -1 for t in [*inputs, *outputs])
    spec = {"inputs": inputs, "outputs": outputs, "opset": opset or 17, "batch": batch}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(source), str(target), json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 or not target.exists():
        raise InvalidInput(
            f"conversion to ONNX failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'no output'}",
            suggestion="the model must be exportable with torch.onnx.export",
        )
