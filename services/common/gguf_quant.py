"""llama.cpp's quantizer for GGUF language models: the widths people ask for, and the call.

Used by the registry (document 003's optimize: a new, measured version) and by the inference
service (document 004's load with ``quantization``: a variant of the loaded model). A file already
quantized is de-quantized and quantized again (``allow_requantize``). No transport imports.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from services.common.errors import InvalidInput

#: Width names (documents 003 and 004) and llama.cpp type names → the llama.cpp type.
QUANTIZATIONS = {
    "4-bit": "Q4_0",
    "4bit": "Q4_0",
    "int4": "Q4_0",
    "q4_0": "Q4_0",
    "8-bit": "Q8_0",
    "8bit": "Q8_0",
    "int8": "Q8_0",
    "q8_0": "Q8_0",
    "16-bit": "F16",
    "16bit": "F16",
    "fp16": "F16",
    "f16": "F16",
}
ALLOWED = ["4-bit", "8-bit", "16-bit", "int4", "int8", "fp16", "Q4_0", "Q8_0", "F16"]


def gguf_type(asked: str, field: str = "quantization") -> str:
    """The llama.cpp type a width names; INVALID_INPUT naming the accepted ones otherwise."""
    key = asked.strip().lower().replace(" ", "")
    if key not in QUANTIZATIONS:
        raise InvalidInput(
            f"quantization {asked!r} is not supported for GGUF models",
            details={"field": field, "provided": asked, "allowed": ALLOWED},
        )
    return QUANTIZATIONS[key]


def quantize(source: Path, target: Path, kind: str) -> None:
    """Writes ``source`` re-quantized to ``kind`` (Q4_0, Q8_0, F16) at ``target``."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{kind}")
    params.allow_requantize = True
    params.nthread = len(os.sched_getaffinity(0))
    partial = target.with_suffix(".partial")
    code = llama_cpp.llama_model_quantize(str(source).encode(), str(partial).encode(), ctypes.byref(params))
    if code != 0 or not partial.exists():
        partial.unlink(missing_ok=True)
        raise InvalidInput(f"llama.cpp could not quantize the model to {kind} (code {code})")
    partial.replace(target)  # a reader never sees a half-written file
