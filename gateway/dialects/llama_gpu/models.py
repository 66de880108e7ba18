"""Document 004 §4: ``GET /api/v1/models``, ``GET /api/v1/models/{id}``,
``POST /api/v1/models/{id}/load``, ``DELETE /api/v1/models/{id}/unload``.

Memory figures are measured by the inference service (resident memory of the model's Triton
instances); a model that is not loaded shows no memory figure rather than an estimate.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, StrictInt

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.model_states import model_states, state_of
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import registry_pb2 as rpb
from services.common.errors import InvalidInput
from services.inference.tensors import spec_json

router = dialect_router("llama", "llama-gpu")
BACKENDS = {"cuda": "cuda", "cpu": "cpu", "auto": "auto", "": "auto"}


def human_bytes(value: int) -> str:
    """1.2GB / 345.6MB / 12.0KB, as document 004 writes memory."""
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value}B"


def _backend(device: str) -> str:
    return "cuda" if device.startswith("cuda") else (device or "cpu")


def model_json(model: common.Model, state: ipb.ModelState | None) -> dict[str, Any]:
    """A 004 model object from the registry's record and the pool's state."""
    loaded = state is not None and state.status == common.MODEL_STATUS_LOADED
    body: dict[str, Any] = {
        "id": model.name,
        "name": model.name,
        "size": human_bytes(model.size_bytes),
        "type": common.ModelTask.Name(model.task).removeprefix("MODEL_TASK_").lower(),
        "loaded": loaded,
        "capabilities": list(model.capabilities),
        "format": common.ModelFormat.Name(model.format).removeprefix("MODEL_FORMAT_").lower(),
        "version": model.version,
        "status": common.ModelStatus.Name(model.status).removeprefix("MODEL_STATUS_").lower(),
    }
    if state is not None:
        body["loads"] = state.loads
        body["evictions"] = state.evictions
    if loaded and state is not None:
        body["memory_usage"] = human_bytes(state.memory_bytes)
        body["memory_bytes"] = state.memory_bytes
        body["backend"] = _backend(state.device)
        body["load_time"] = state.load_seconds
        if state.engine:
            body["engine"] = state.engine
            body["engine_reason"] = state.engine_reason
            body["context_length"] = state.context_length
            body["vocab_size"] = state.vocab_size
            body["quantization"] = state.quantization
            body["tokens_per_second"] = round(state.tokens_per_second, 3)
    return body


@router.get("/api/v1/models", summary="List available models (document 004)")
async def list_models(clients: Clients) -> dict[str, Any]:
    """Every model with whether it is loaded and its measured memory."""
    reply = await clients.call(clients.registry.ListModels, rpb.ListModelsRequest(), idempotent=True)
    states = await model_states(clients)
    models = [model_json(m, state_of(states, m)) for m in reply.models]
    return {
        "success": True,
        "models": models,
        "total_models": len(models),
        "loaded_models": sum(1 for m in models if m["loaded"]),
    }


@router.get("/api/v1/models/{model_id}", summary="Model information (document 004)")
async def get_model(model_id: str, clients: Clients) -> dict[str, Any]:
    """One model with its signature and request statistics."""
    reply = await clients.call(
        clients.registry.GetModel, rpb.GetModelRequest(ref=common.ModelRef(name=model_id)), idempotent=True
    )
    model = reply.model
    states = await model_states(clients)
    stats = await clients.call(
        clients.inference.GetStats, ipb.GetStatsRequest(model_name=model.name), idempotent=True
    )
    body = model_json(model, state_of(states, model))
    body.update(
        {
            "architecture": model.labels.get("producer", "") or body["format"],
            "parameters": int(model.labels["parameters"])
            if model.labels.get("parameters", "").isdigit()
            else None,
            "inputs": spec_json(model.inputs),
            "outputs": spec_json(model.outputs),
        }
    )
    for entry in stats.models:
        body["performance"] = {
            "avg_latency": round(entry.latency.mean_ms / 1000, 6),
            "p99_latency": round(entry.latency.p99_ms / 1000, 6),
            "total_requests": entry.requests,
            "failures": entry.failures,
            "request_rate": entry.request_rate,
        }
        if "tokens_per_second" in body:
            body["performance"]["tokens_per_second"] = body["tokens_per_second"]
    if "engine" in body:  # a language model: its batch slots, as the engines count them now
        generation = await clients.call(
            clients.inference.GetGenerationStats,
            ipb.GetGenerationStatsRequest(model_name=model.name),
            idempotent=True,
        )
        rows = [g for g in generation.models if g.model_name == model.name]
        body.setdefault("performance", {})["batch"] = {
            "active_sequences": sum(g.active_sequences for g in rows),
            "waiting_sequences": sum(g.waiting_sequences for g in rows),
            "slots": sum(g.slots for g in rows),
        }
    return {"success": True, "model": body}


class LoadBody(BaseModel):
    """004's load request."""

    backend: str = Field("auto", description="cuda, cpu or auto.")
    quantization: str = Field(
        "",
        description="Language models (GGUF): int4, int8 or fp16 serves a llama.cpp re-quantized variant;"
        " none the stored weights. Tensor models run in their stored precision.",
    )
    max_memory: str = Field(
        "", description='Language models: refuse the load above this ("2GB", "512MiB", "80%").'
    )
    replicas: StrictInt = Field(1, ge=1, le=16, description="Workers to place the model on.")


@router.post("/api/v1/models/{model_id}/load", summary="Load a model (document 004)")
async def load_model(model_id: str, clients: Clients, body: LoadBody | None = None) -> dict[str, Any]:
    """Loads the model on Triton workers and reports the measured memory and load time."""
    body = body or LoadBody()
    if body.backend not in BACKENDS:
        raise InvalidInput("backend must be cuda, cpu or auto", details={"field": "backend"})
    reply = await clients.call(
        clients.inference.LoadModel,
        ipb.LoadModelRequest(
            model=common.ModelRef(name=model_id),
            device=BACKENDS[body.backend],
            replicas=body.replicas,
            quantization=body.quantization,
            max_memory=body.max_memory,
        ),
    )
    state = reply.state
    return {
        "success": True,
        "message": "Model loaded successfully",
        "model": {
            "id": state.model.name,
            "loaded": state.status == common.MODEL_STATUS_LOADED,
            "backend": _backend(state.device),
            "memory_usage": human_bytes(state.memory_bytes),
            "memory_bytes": state.memory_bytes,
            "load_time": state.load_seconds,
            "workers": list(state.worker_ids),
            **(
                {
                    "engine": state.engine,
                    "context_length": state.context_length,
                    "vocab_size": state.vocab_size,
                    "quantization": state.quantization,
                }
                if state.engine
                else {}
            ),
        },
    }


@router.delete("/api/v1/models/{model_id}/unload", summary="Unload a model (document 004)")
async def unload_model(model_id: str, clients: Clients) -> dict[str, Any]:
    """Unloads the model from every worker; reports the resident memory its instances held."""
    reply = await clients.call(
        clients.inference.UnloadModel, ipb.UnloadModelRequest(model=common.ModelRef(name=model_id))
    )
    return {
        "success": True,
        "message": "Model unloaded successfully",
        "freed_memory": human_bytes(reply.freed_memory_bytes),
        "freed_memory_bytes": reply.freed_memory_bytes,
    }
