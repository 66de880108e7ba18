"""Registry records ↔ protobuf messages."""

from __future__ import annotations

from typing import Any

from meshserve.v1 import common_pb2 as common

FORMAT_TO_PROTO = {
    "onnx": common.MODEL_FORMAT_ONNX,
    "torchscript": common.MODEL_FORMAT_TORCHSCRIPT,
    "pytorch": common.MODEL_FORMAT_PYTORCH,
    "gguf": common.MODEL_FORMAT_GGUF,
    "transformers": common.MODEL_FORMAT_TRANSFORMERS,
    "builtin": common.MODEL_FORMAT_BUILTIN,
}
TASK_TO_PROTO = {
    "tensor": common.MODEL_TASK_TENSOR,
    "text-generation": common.MODEL_TASK_TEXT_GENERATION,
    "text-to-speech": common.MODEL_TASK_TEXT_TO_SPEECH,
    "speech-to-text": common.MODEL_TASK_SPEECH_TO_TEXT,
}
STATUS_TO_PROTO = {
    "uploading": common.MODEL_STATUS_UPLOADING,
    "validating": common.MODEL_STATUS_VALIDATING,
    "ready": common.MODEL_STATUS_READY,
    "loading": common.MODEL_STATUS_LOADING,
    "loaded": common.MODEL_STATUS_LOADED,
    "failed": common.MODEL_STATUS_FAILED,
}
DTYPE_TO_PROTO = {
    name: common.DataType.Value(f"DATA_TYPE_{name}")
    for name in ("BOOL", "UINT8", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES")
}


def tensor_spec(spec: dict[str, Any]) -> common.TensorSpec:
    """A ``{"name", "datatype", "shape"}`` dict as a TensorSpec."""
    return common.TensorSpec(
        name=spec["name"], datatype=DTYPE_TO_PROTO[spec["datatype"]], shape=[int(d) for d in spec["shape"]]
    )


def model_to_proto(record: Any) -> common.Model:
    """A :class:`~services.registry.store.ModelRecord` as a Model message."""
    spec = record.spec
    return common.Model(
        id=record.id,
        name=record.name,
        version=record.version,
        format=FORMAT_TO_PROTO.get(record.format, common.MODEL_FORMAT_UNSPECIFIED),
        task=TASK_TO_PROTO.get(record.task, common.MODEL_TASK_UNSPECIFIED),
        status=STATUS_TO_PROTO.get(record.status, common.MODEL_STATUS_UNSPECIFIED),
        status_reason=record.status_reason,
        inputs=[tensor_spec(s) for s in spec.get("inputs", [])],
        outputs=[tensor_spec(s) for s in spec.get("outputs", [])],
        sha256=record.sha256,
        size_bytes=record.size_bytes,
        source=record.source,
        created_at=record.created_at,
        capabilities=list(spec.get("capabilities", [])),
        labels={k: str(v) for k, v in spec.get("labels", {}).items()},
        optimized=bool(spec.get("optimized", False)),
    )
