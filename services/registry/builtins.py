"""Models registered at first start: the ``example`` tensor model of document 001's quick start."""

from __future__ import annotations

from services.common.errors import ModelNotFound
from services.registry.store import ModelRecord, ModelStore

EXAMPLE = ModelRecord(
    name="example",
    version="1",
    format="builtin",
    task="tensor",
    status="ready",
    source="builtin",
    id="example",
    spec={
        "inputs": [{"name": "INPUT", "datatype": "FP32", "shape": [-1]}],
        "outputs": [{"name": "OUTPUT", "datatype": "FP32", "shape": [-1]}],
        "capabilities": ["tensor"],
        "labels": {"description": "built-in example model of document 001's quick start"},
    },
)


def seed_builtin_models(store: ModelStore) -> None:
    """Registers the built-in models that are not stored yet."""
    for record in (EXAMPLE,):
        try:
            store.get(record.name, record.version)
        except ModelNotFound:
            store.put(record)
