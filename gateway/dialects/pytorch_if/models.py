"""Document 001's model management: ``/models``, ``/models/download``, ``/models/available``,
``/models/managed``, ``/models/cache/info``, each in 001's success envelope."""

from __future__ import annotations

import time
from typing import Any

import grpc
from pydantic import BaseModel, Field, StrictBool

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.openai.models import ace3_object
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import registry_pb2 as rpb
from services.common.clients import call_metadata
from services.common.context import remaining_seconds
from services.common.errors import InvalidInput, MeshError

router = dialect_router("pytorch_if", "pytorch-if")

TASKS = {
    "": common.MODEL_TASK_UNSPECIFIED,
    "tensor": common.MODEL_TASK_TENSOR,
    "text-generation": common.MODEL_TASK_TEXT_GENERATION,
    "text-to-speech": common.MODEL_TASK_TEXT_TO_SPEECH,
    "speech-to-text": common.MODEL_TASK_SPEECH_TO_TEXT,
}
#: Deadline of a download (large files over slow links).
DOWNLOAD_TIMEOUT = 900.0


def _task(value: int) -> str:
    return common.ModelTask.Name(value).removeprefix("MODEL_TASK_").lower().replace("_", "-")


def envelope(result: Any, started: float, **extra: Any) -> dict[str, Any]:
    """001's success envelope."""
    return {
        "success": True,
        "result": result,
        "processing_time": round(time.perf_counter() - started, 6),
        **extra,
    }


@router.get("/models", summary="List available models (document 001)")
async def models(clients: Clients) -> dict[str, Any]:
    """Stored models with their lifecycle state."""
    started = time.perf_counter()
    reply = await clients.call(clients.registry.ListModels, rpb.ListModelsRequest(), idempotent=True)
    items = [ace3_object(m) for m in reply.models]
    return envelope([m["name"] for m in items], started, models=items, total=len(items))


class DownloadBody(BaseModel):
    """001's download request."""

    source: str = Field("huggingface", description="huggingface or url.")
    model_id: str = Field(..., description="Hub repository (org/name) or the URL.")
    name: str = Field("", description="Name to store it under.")
    task: str = Field("", description="Task, such as text-to-speech.")
    revision: str = Field("", description="Hub revision.")
    include_vocoder: StrictBool = Field(
        False, description="Accepted for compatibility; vocoders are not fetched."
    )


@router.post("/models/download", summary="Download a model (document 001)")
async def download(body: DownloadBody, clients: Clients) -> dict[str, Any]:
    """Imports from the Hugging Face hub or a URL through the registry, waiting for the result."""
    started = time.perf_counter()
    if body.source == "huggingface":
        source = f"huggingface:{body.model_id}"
    elif body.source == "url":
        source = body.model_id
    else:
        raise InvalidInput("source must be 'huggingface' or 'url'", details={"field": "source"})
    if body.task not in TASKS:
        raise InvalidInput(f"unknown task {body.task!r}", details={"field": "task"})
    request = rpb.ImportModelRequest(
        source=source, name=body.name, revision=body.revision, task=TASKS[body.task]
    )
    last = rpb.ImportModelResponse()
    try:
        call = clients.registry.ImportModel(
            request, timeout=remaining_seconds(DOWNLOAD_TIMEOUT), metadata=call_metadata()
        )
        async for progress in call:
            last = progress
    except grpc.aio.AioRpcError as error:
        raise MeshError.from_rpc_error(error) from None
    model = ace3_object(last.model)
    return envelope(model, started, message=f"model {last.model.name!r} downloaded", model=model)


@router.get("/models/available", summary="Downloadable models (document 001)")
async def available(clients: Clients) -> dict[str, Any]:
    """The catalogue, with whether each model is on this machine."""
    started = time.perf_counter()
    reply = await clients.call(
        clients.registry.ListAvailableModels, rpb.ListAvailableModelsRequest(), idempotent=True
    )
    items = [
        {
            "name": m.name,
            "source": m.source,
            "task": _task(m.task),
            "available_offline": m.available_offline,
            "size_bytes": m.size_bytes,
            "description": m.description,
        }
        for m in reply.models
    ]
    return envelope(items, started, models=items, total=len(items))


@router.get("/models/managed", summary="Server-managed models (document 001)")
async def managed(clients: Clients) -> dict[str, Any]:
    """Models placed on the Triton workers, with measured memory and batching."""
    started = time.perf_counter()
    reply = await clients.call(
        clients.inference.ListModelStates, ipb.ListModelStatesRequest(), idempotent=True
    )
    items = [
        {
            "name": s.model.name,
            "version": s.model.version,
            "status": common.ModelStatus.Name(s.status).removeprefix("MODEL_STATUS_").lower(),
            "workers": list(s.worker_ids),
            "device": s.device,
            "memory_bytes": s.memory_bytes,
            "load_seconds": s.load_seconds,
            "batching": {
                "max_batch_size": s.batching.max_batch_size,
                "preferred_batch_sizes": list(s.batching.preferred_batch_sizes),
                "max_queue_delay_microseconds": s.batching.max_queue_delay_microseconds,
            },
            "triton_name": s.triton_name,
        }
        for s in reply.states
    ]
    return envelope(items, started, models=items, total=len(items))


@router.get("/models/cache/info", summary="Model cache facts (document 001)")
async def cache_info(clients: Clients) -> dict[str, Any]:
    """The blob store: where, how many, how big, and the upload limit."""
    started = time.perf_counter()
    reply = await clients.call(clients.registry.GetCacheInfo, rpb.GetCacheInfoRequest(), idempotent=True)
    info = {
        "path": reply.path,
        "blob_count": reply.blob_count,
        "size_bytes": reply.size_bytes,
        "size_mb": round(reply.size_bytes / 2**20, 3),
        "max_upload_bytes": reply.max_upload_bytes,
    }
    return envelope(info, started, cache=info)
