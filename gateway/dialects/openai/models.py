"""The shared ``/v1/models`` surface (ARCHITECTURE.md, "Shared paths"): OpenAI's model list and retrieval plus document
000's list and multipart upload.

* ``GET /v1/models`` → ``{"object": "list", "data": [OpenAI model objects], "models": [000 objects]}``
* ``POST /v1/models`` (multipart ``name``, ``file``, ``format``; optional ``version``, and
  ``input_shape`` and ``input_dtype`` for TorchScript) → 201 with the stored model
* ``GET /v1/models/{id}`` → the OpenAI model object with 000's fields; ids may contain ``/``.
* ``DELETE /v1/models/{id}`` → OpenAI's ``{"id", "object": "model", "deleted": true}``, with the
  versions deleted: every version of the name, unloaded first (built-in models are refused).
  ``POST /v1/models/{id}/predict`` (000) lives in the ace3 dialect and is matched first.
"""

from __future__ import annotations

import calendar
import time
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse

from gateway.deps import Clients
from gateway.dialects.ace3.tensors import upload
from gateway.model_removal import delete_model
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import registry_pb2 as rpb
from services.inference.tensors import spec_json

router = APIRouter(tags=["models"])


def _created(model: common.Model) -> int:
    try:
        return calendar.timegm(time.strptime(model.created_at, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return 0


def _status(model: common.Model) -> str:
    return common.ModelStatus.Name(model.status).removeprefix("MODEL_STATUS_").lower()


def parameter_count(model: common.Model) -> int | None:
    """The parameter count the registry read from the weights (GGUF tensor table, safetensors
    headers, TorchScript modules); None where it did not (ONNX graphs)."""
    value = model.labels.get("parameters", "")
    return int(value) if value.isdigit() else None


def openai_object(model: common.Model) -> dict[str, Any]:
    """An OpenAI model object, with 002's ``parameters`` (an extra field OpenAI clients keep)."""
    return {
        "id": model.name,
        "object": "model",
        "created": _created(model),
        "owned_by": model.source or "meshserve",
        "parameters": parameter_count(model),
    }


def ace3_object(model: common.Model) -> dict[str, Any]:
    """A document 000 model object, with the registry's facts."""
    return {
        "id": model.id,
        "name": model.name,
        "status": _status(model),
        "created_at": model.created_at,
        "version": model.version,
        "format": common.ModelFormat.Name(model.format).removeprefix("MODEL_FORMAT_").lower(),
        "size_bytes": model.size_bytes,
        "sha256": model.sha256,
        "inputs": spec_json(model.inputs),
        "outputs": spec_json(model.outputs),
        "optimized": model.optimized,
        **({"status_reason": model.status_reason} if model.status_reason else {}),
    }


@router.get("/v1/models", operation_id="list_models", summary="List models (OpenAI and document 000)")
async def list_models(clients: Clients) -> dict[str, Any]:
    """Every model's newest version, in both documents' shapes."""
    reply = await clients.call(clients.registry.ListModels, rpb.ListModelsRequest(), idempotent=True)
    return {
        "object": "list",
        "data": [openai_object(m) for m in reply.models],
        "models": [ace3_object(m) for m in reply.models],
    }


@router.post(
    "/v1/models", operation_id="upload_model", summary="Upload a model (document 000)", status_code=201
)
async def upload_model(
    clients: Clients,
    name: Annotated[str, Form(description="Model name: letters, digits, '-', '_', '.'.")],
    file: Annotated[UploadFile, File(description="The ONNX file or TorchScript archive.")],
    format: Annotated[str, Form(description="onnx or torchscript (checked against the content).")] = "",
    input_shape: Annotated[str, Form(description="TorchScript only: input shape(s), e.g. -1,4.")] = "",
    input_dtype: Annotated[str, Form(description="TorchScript only: input datatype, default FP32.")] = "",
    version: Annotated[
        str, Form(description="Version label; empty: the next number. An existing label is replaced.")
    ] = "",
) -> JSONResponse:
    """Streams the file to the registry, which validates it before storing anything."""
    labels = {k: v for k, v in (("input_shape", input_shape), ("input_dtype", input_dtype)) if v}
    model = await upload(clients, name, format, file, labels, version)
    return JSONResponse({**ace3_object(model), "object": "model"}, status_code=201)


@router.get("/v1/models/{model_id:path}", operation_id="get_model", summary="Retrieve a model")
async def get_model(model_id: str, clients: Clients) -> dict[str, Any]:
    """One model: OpenAI's fields plus document 000's."""
    reply = await clients.call(
        clients.registry.GetModel, rpb.GetModelRequest(ref=common.ModelRef(name=model_id)), idempotent=True
    )
    return {**ace3_object(reply.model), **openai_object(reply.model)}


@router.delete("/v1/models/{model_id:path}", operation_id="delete_model", summary="Delete a model")
async def remove_model(model_id: str, clients: Clients) -> dict[str, Any]:
    """Deletes every version of the model, after unloading it from the workers."""
    name, versions = await delete_model(clients, model_id)
    return {"id": name, "object": "model", "deleted": True, "versions": versions}
