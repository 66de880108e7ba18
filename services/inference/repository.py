"""The Triton model repository shared by the workers: directory layout and ``config.pbtxt``.

Each meshserve model version becomes one Triton model named by :func:`triton_name`, holding
``config.pbtxt`` and ``1/`` with the generic python-backend ``model.py`` plus the artifact. Every
worker serves the same repository in explicit model-control mode, so writing a model here loads
nothing: the pool then asks chosen workers to load it. No transport imports.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

#: The generic python-backend model that runs ONNX and TorchScript artifacts.
MODEL_PY = Path(__file__).with_name("triton_model") / "model.py"

_TRITON_TYPES = {
    "BOOL": "TYPE_BOOL",
    "UINT8": "TYPE_UINT8",
    "INT8": "TYPE_INT8",
    "INT16": "TYPE_INT16",
    "INT32": "TYPE_INT32",
    "INT64": "TYPE_INT64",
    "FP16": "TYPE_FP16",
    "FP32": "TYPE_FP32",
    "FP64": "TYPE_FP64",
    "BYTES": "TYPE_STRING",
}
_RUNTIMES = {"onnx": ("onnxruntime", "model.onnx"), "torchscript": ("torchscript", "model.pt")}


@dataclass(frozen=True)
class Batching:
    """Triton dynamic batching of one model; ``max_batch_size`` 0 disables it."""

    max_batch_size: int = 0
    preferred_batch_sizes: tuple[int, ...] = ()
    max_queue_delay_microseconds: int = 0
    #: Requests the batcher queues per priority level before Triton rejects one (0: unbounded).
    max_queue_size: int = 0
    #: How long a request may wait in that queue before Triton rejects it (0: no limit).
    queue_timeout_microseconds: int = 0
    #: Levels of Triton's priority queue (0: one plain queue).
    priority_levels: int = 0


@dataclass(frozen=True)
class ModelSpec:
    """What the pool needs to place a registry model version on Triton."""

    name: str
    version: str
    format: str
    inputs: list[dict] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)

    @property
    def batchable(self) -> bool:
        """Whether every tensor has a variable leading (batch) dimension."""
        tensors = [*self.inputs, *self.outputs]
        return bool(tensors) and all(t["shape"] and int(t["shape"][0]) == -1 for t in tensors)


def triton_name(name: str, version: str, record_id: str) -> str:
    """Triton model name of a registry model version (Triton names allow no '/' or ':').

    It carries the registry record's id: a name and version deleted and registered again is
    another record, so it never shares a Triton model (nor its placement, files or unloaded state)
    with the one it replaced.
    """
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{name}--v{version}--{record_id}")


def runtime_of(fmt: str) -> tuple[str, str]:
    """(runtime, artifact file name) of an artifact format."""
    return _RUNTIMES[fmt]


def config_pbtxt(tname: str, spec: ModelSpec, batching: Batching, device: str) -> str:
    """The ``config.pbtxt`` of a tensor model."""
    runtime, artifact = runtime_of(spec.format)
    batched = batching.max_batch_size > 0 and spec.batchable

    def tensor(t: dict) -> str:
        dims = [int(d) for d in t["shape"]]
        if batched:
            dims = dims[1:]
        return (
            f'  {{ name: "{t["name"]}" data_type: {_TRITON_TYPES[t["datatype"]]} '
            f"dims: [ {', '.join(str(d) for d in dims) or '1'} ] }}"
        )

    lines = [
        f'name: "{tname}"',
        'backend: "python"',
        f"max_batch_size: {batching.max_batch_size if batched else 0}",
        "input [",
        ",\n".join(tensor(t) for t in spec.inputs),
        "]",
        "output [",
        ",\n".join(tensor(t) for t in spec.outputs),
        "]",
        "instance_group [ { count: 1 kind: KIND_CPU } ]",
        f'parameters: {{ key: "runtime" value: {{ string_value: "{runtime}" }} }}',
        f'parameters: {{ key: "artifact" value: {{ string_value: "{artifact}" }} }}',
        f'parameters: {{ key: "device" value: {{ string_value: "{device}" }} }}',
    ]
    if batched:
        preferred = ", ".join(str(s) for s in batching.preferred_batch_sizes if s <= batching.max_batch_size)
        lines.append("dynamic_batching {")
        if preferred:
            lines.append(f"  preferred_batch_size: [ {preferred} ]")
        lines.append(f"  max_queue_delay_microseconds: {batching.max_queue_delay_microseconds}")
        # Priority levels and a queue policy are written only when asked for: with either, the
        # batcher of the Triton this runs (the nvidia-pytriton wheel's) at times sleeps its 500 ms
        # idle wait with requests queued (measured: 505 ms stalls at concurrency 32, none without).
        if batching.priority_levels:
            # A request's "priority" parameter picks the level (1 first); one without it waits at
            # the lowest (services.inference.priority.triton_level).
            lines.append(f"  priority_levels: {batching.priority_levels}")
            lines.append(f"  default_priority_level: {batching.priority_levels}")
        if batching.max_queue_size:
            # Bounded queues: past max_queue_size Triton rejects the request at once ("Exceeds
            # maximum queue size", answered 429 by triton_http and dispatch). With priority levels
            # and no priority_queue_policy, this default policy is every level's, each its own queue.
            lines.append("  default_queue_policy {")
            lines.append("    timeout_action: REJECT")
            lines.append(f"    default_timeout_microseconds: {batching.queue_timeout_microseconds}")
            lines.append("    allow_timeout_override: true")
            lines.append(f"    max_queue_size: {batching.max_queue_size}")
            lines.append("  }")
        lines.append("}")
    return "\n".join(lines) + "\n"


class ModelRepository:
    """A directory every worker serves with ``--model-repository``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, tname: str) -> Path:
        """Directory of one Triton model."""
        return self.root / tname

    def write_tensor_model(self, tname: str, config: str, artifact: Path, artifact_name: str) -> Path:
        """Writes a tensor model; the artifact is hard-linked when possible (no copy of big files)."""
        final = self.path(tname)
        staging = self.root / f".{tname}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "1").mkdir(parents=True)
        shutil.copy(MODEL_PY, staging / "1" / "model.py")
        try:
            (staging / "1" / artifact_name).hardlink_to(artifact)
        except OSError:
            shutil.copy(artifact, staging / "1" / artifact_name)
        (staging / "config.pbtxt").write_text(config)
        shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)  # atomic: a worker never sees a half-written model
        return final

    def install_directory(self, tname: str, source: Path) -> Path:
        """Copies a complete Triton model directory (config.pbtxt + versions) in, atomically."""
        final = self.path(tname)
        staging = self.root / f".{tname}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(source, staging, symlinks=True)
        shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)
        return final

    def remove(self, tname: str) -> None:
        """Deletes a model's directory (after every worker unloaded it)."""
        shutil.rmtree(self.path(tname), ignore_errors=True)

    def has(self, tname: str) -> bool:
        """Whether the model is written."""
        return (self.path(tname) / "config.pbtxt").exists()

    def runtime_facts(self, tname: str) -> list[Path]:
        """The runtime-<pid>.json files the model wrote when it loaded."""
        return sorted((self.path(tname) / "1").glob("runtime-*.json"))
