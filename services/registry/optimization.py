"""ONNX model optimisation (document 000's ``client.optimize``, 003's optimize endpoint): onnxruntime
graph optimisations at the requested level, saved as a model file, optionally converted to FP16
(``onnxruntime.transformers.float16``, shipped with onnxruntime; inputs and outputs keep their
types so callers do not change). The result is stored by the registry as a new version with
``optimized = true``. No transport imports.

Levels (document 000 names, onnxruntime names accepted too): ``basic`` → ORT_ENABLE_BASIC
(constant folding, redundant node removal), ``standard``/``extended`` → ORT_ENABLE_EXTENDED
(plus node fusions), ``aggressive``/``all`` → ORT_ENABLE_ALL (plus layout optimisations; the file
then targets onnxruntime's CPU provider, on which the workers run it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from services.common.errors import InvalidInput

if TYPE_CHECKING:
    import onnx

LEVELS = {
    "basic": "ORT_ENABLE_BASIC",
    "standard": "ORT_ENABLE_EXTENDED",
    "extended": "ORT_ENABLE_EXTENDED",
    "aggressive": "ORT_ENABLE_ALL",
    "all": "ORT_ENABLE_ALL",
}
#: Options of document 000; the informative ones are recorded as labels of the new version.
APPLIED_OPTIONS = ("use_fp16", "enable_kernel_fusion", "quantization")
RECORDED_OPTIONS = ("batch_size", "max_sequence_length")


@dataclass(frozen=True)
class OptimizePlan:
    """What an optimisation request asks for, checked."""

    level: str = "standard"
    fp16: bool = False
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def ort_level(self) -> str:
        """The onnxruntime GraphOptimizationLevel name."""
        return LEVELS[self.level]


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise InvalidInput(f"option {name} must be true or false, not {value!r}", details={"field": name})


def plan(target: str, level: str, options: dict[str, str]) -> OptimizePlan:
    """Checks a request: target ``inference``, a known level, known options."""
    if (target or "inference").lower() != "inference":
        raise InvalidInput(
            f"target {target!r} is not supported: meshserve optimises models for inference",
            details={"field": "target"},
            suggestion='use target="inference"',
        )
    chosen = (level or "standard").lower()
    if chosen not in LEVELS:
        raise InvalidInput(
            f"unknown optimisation level {level!r}; use basic, standard or aggressive",
            details={"field": "level"},
        )
    unknown = sorted(set(options) - {*APPLIED_OPTIONS, *RECORDED_OPTIONS})
    if unknown:
        raise InvalidInput(
            f"unknown optimisation option {unknown[0]!r}",
            details={"field": unknown[0], "known": ",".join((*APPLIED_OPTIONS, *RECORDED_OPTIONS))},
        )
    if not _flag("enable_kernel_fusion", options.get("enable_kernel_fusion", "true")):
        chosen = "basic"  # fusions start at the extended level
    for name in RECORDED_OPTIONS:
        if name in options and not options[name].strip().isdigit():
            raise InvalidInput(f"option {name} must be a positive integer", details={"field": name})
    labels = {f"optimize_{k}": options[k] for k in RECORDED_OPTIONS if k in options}
    fp16 = _flag("use_fp16", options.get("use_fp16", ""))
    if "quantization" in options:  # document 003 names widths: 16-bit is FP16
        width = options["quantization"].strip().lower().replace(" ", "")
        if width not in ("16-bit", "16bit", "fp16"):
            raise InvalidInput(
                f"quantization {options['quantization']!r} is not supported: only 16-bit (FP16) is",
                details={"field": "quantization"},
                suggestion="4- and 8-bit quantisation needs calibration data; use 16-bit",
            )
        fp16 = True
    return OptimizePlan(level=chosen, fp16=fp16, labels=labels)


def optimize_onnx(source: Path, target: Path, chosen: OptimizePlan) -> list[str]:
    """Writes the optimised model to ``target``; returns what was done, in order."""
    import onnx
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, chosen.ort_level)
    options.optimized_model_filepath = str(target)
    original = onnx.load(str(source), load_external_data=False)  # the types and nodes, not the weights
    before = len(original.graph.node)
    try:
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime's own exceptions carry the reason
        raise InvalidInput(f"onnxruntime could not optimise the model: {error}") from None
    model = onnx.load(str(target))
    applied = [f"onnxruntime graph optimisation {chosen.ort_level}: {before} → {len(model.graph.node)} nodes"]
    if chosen.fp16 and _weights_are_fp16(original):
        applied.append("weights already FP16 (an FP16 version optimised again): not converted twice")
    elif chosen.fp16:
        onnx.save(_to_fp16(model), str(target))
        applied.append("weights and activations converted to FP16 (inputs and outputs keep their types)")
    return applied


def _weights_are_fp16(model: onnx.ModelProto) -> bool:
    """Whether a model's weights are FP16 and none FP32: a version this module converted before.

    Converting one again would add the converter's input and output casts a second time, under the
    names the first ones hold, and leave a graph with a cycle. It is asked of the model as stored:
    onnxruntime's optimisation at the ``all`` level folds the casts it inserts before FP16 weights
    (the CPU has no FP16 kernels for them) into FP32 copies.
    """
    from onnx import TensorProto

    types = {initializer.data_type for initializer in model.graph.initializer}
    return TensorProto.FLOAT16 in types and TensorProto.FLOAT not in types


def _to_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with FP32 weights and activations in FP16, its inputs and outputs kept FP32."""
    from onnxruntime.transformers.float16 import convert_float_to_float16
    from onnxruntime.transformers.onnx_model import OnnxModel

    try:
        converted = OnnxModel(convert_float_to_float16(model, keep_io_types=True))
        converted.topological_sort()  # the converter appends its input casts last; the checker wants order
    except Exception as error:  # the converter's own exceptions carry the reason
        raise InvalidInput(f"the model could not be converted to FP16: {error}") from None
    return converted.model
