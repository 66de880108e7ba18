"""Models derived from stored ones: conversion (TorchScript → ONNX) and optimisation (ONNX graph
optimisation, GGUF re-quantization), each stored as a new model or version. No transport imports.

Every derivation reads the source artifact, writes the result into a temporary file off the event
loop, and stores it through :meth:`Registry.receive` (validated, committed atomically), so a
derivation that fails leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from services.common.errors import InvalidInput
from services.registry.catalog import Registry, UploadRequest
from services.registry.conversion import torchscript_to_onnx
from services.registry.gguf_optimization import optimize_gguf
from services.registry.imports import file_chunks
from services.registry.optimization import optimize_onnx, plan
from services.registry.store import ModelRecord

T = TypeVar("T")


async def _derived(
    registry: Registry,
    record: ModelRecord,
    filename: str,
    make: Callable[[Path, Path], T],
    header: Callable[[T], UploadRequest],
) -> tuple[ModelRecord, T]:
    """Runs ``make(source, target)`` off the event loop, then stores ``target`` under the header
    its result gives."""
    source = registry.artifact(record.id)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / filename
        result = await asyncio.to_thread(make, source, target)
        stored = await registry.receive(header(result), file_chunks(target, lambda done, total: None))
    return stored, result


async def convert_to_onnx(
    registry: Registry, name: str, version: str, example_shapes: dict[str, list[int]], opset: int
) -> ModelRecord:
    """A TorchScript model exported to ONNX, stored as the model ``<name>-onnx``."""
    record = registry.get(name, version)
    if record.format != "torchscript":
        raise InvalidInput(
            f"model {record.name!r} is {record.format}; conversion to ONNX takes a TorchScript model",
            details={"format": record.format},
        )
    inputs: list[dict[str, Any]] = [dict(spec) for spec in record.spec.get("inputs", [])]
    for spec in inputs:
        if spec["name"] in example_shapes:
            spec["shape"] = example_shapes[spec["name"]]
    outputs = list(record.spec.get("outputs", []))
    header = UploadRequest(
        name=f"{record.name}-onnx",
        format="onnx",
        filename="model.onnx",
        source="conversion",
        labels={"converted_from": f"{record.name}:{record.version}"},
    )
    stored, _ = await _derived(
        registry,
        record,
        header.filename,
        lambda src, dst: torchscript_to_onnx(src, dst, inputs, outputs, opset),
        lambda _: header,
    )
    return stored


async def optimize(
    registry: Registry, name: str, version: str, target: str, level: str, options: dict[str, str]
) -> tuple[ModelRecord, list[str]]:
    """onnxruntime graph optimisation (and FP16 when asked) of an ONNX model, llama.cpp
    re-quantization of a GGUF one (measured), stored as a new optimised version; what was done."""
    record = registry.get(name, version)
    if record.format == "gguf":
        plan(target, "", {})  # the target must be inference
        return await _optimized(registry, record, "gguf", lambda src, dst: optimize_gguf(src, dst, options))
    chosen = plan(target, level, options)
    if record.format != "onnx":
        raise InvalidInput(
            f"model {record.name!r} is {record.format}; optimisation takes an ONNX model",
            details={"format": record.format},
            suggestion="convert it to ONNX first (ConvertModel)",
        )

    def onnx(source: Path, target: Path) -> tuple[list[str], dict[str, str]]:
        applied = optimize_onnx(source, target, chosen)
        return applied, {
            **chosen.labels,
            "optimization_level": chosen.level,
            "fp16": str(chosen.fp16).lower(),
        }

    return await _optimized(registry, record, "onnx", onnx)


async def _optimized(
    registry: Registry,
    record: ModelRecord,
    fmt: str,
    make: Callable[[Path, Path], tuple[list[str], dict[str, str]]],
) -> tuple[ModelRecord, list[str]]:
    """A new optimised version of ``record``: ``make`` returns what it did and the labels to add."""
    kept = {k: str(v) for k, v in record.spec.get("labels", {}).items() if k != "filename"}

    def header(result: tuple[list[str], dict[str, str]]) -> UploadRequest:
        labels = {**kept, **result[1], "optimized_from": f"{record.name}:{record.version}"}
        return UploadRequest(
            name=record.name,
            format=fmt,
            filename=f"model.{fmt}",
            source="optimization",
            labels=labels,
            optimized=True,
        )

    stored, (applied, _) = await _derived(registry, record, f"model.{fmt}", make, header)
    return stored, applied
