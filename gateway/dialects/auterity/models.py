"""Document 003 ``GET /api/ai/models``: the registry's models with 003's filters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.request_id import request_id_of
from meshserve.v1 import common_pb2, registry_pb2

router = dialect_router("auterity", "auterity")

PROVIDER = "meshserve"


def _names(enum: Any, value: int, prefix: str) -> str:
    return str(enum.Name(value)).removeprefix(prefix).lower()


def model_body(model: common_pb2.Model) -> dict[str, Any]:
    """One registry model as 003 lists it."""
    labels = dict(model.labels)
    return {
        "id": model.id or model.name,
        "name": model.name,
        "version": model.version,
        "provider": labels.get("provider", PROVIDER),
        "capabilities": list(model.capabilities),
        "task": _names(common_pb2.ModelTask, model.task, "MODEL_TASK_"),
        "format": _names(common_pb2.ModelFormat, model.format, "MODEL_FORMAT_"),
        "status": _names(common_pb2.ModelStatus, model.status, "MODEL_STATUS_"),
        "tags": sorted(t for t in labels.get("tags", "").split(",") if t),
        "source": model.source,
        "size_bytes": model.size_bytes,
        "created_at": model.created_at,
        "labels": labels,
    }


@router.get("/api/ai/models", summary="Model registry with filters")
async def list_models(
    request: Request,
    clients: Clients,
    capabilities: Annotated[str | None, Query(description="Comma-separated; a model must have all.")] = None,
    provider: Annotated[str | None, Query(description="Only models of this provider.")] = None,
    tags: Annotated[str | None, Query(description="Comma-separated; a model must carry all.")] = None,
) -> Any:
    """Lists models; the first capability is filtered by the registry, the rest here."""
    wanted = [c.strip() for c in (capabilities or "").split(",") if c.strip()]
    wanted_tags = [t.strip() for t in (tags or "").split(",") if t.strip()]
    reply = await clients.call(
        clients.registry.ListModels,
        registry_pb2.ListModelsRequest(capability=wanted[0] if wanted else ""),
        idempotent=True,
    )
    models = [model_body(m) for m in reply.models]
    models = [
        m
        for m in models
        if all(c in m["capabilities"] for c in wanted)
        and (provider is None or m["provider"] == provider)
        and all(t in m["tags"] for t in wanted_tags)
    ]
    return JSONResponse(
        {
            "models": models,
            "total": len(models),
            "filters": {"capabilities": wanted, "provider": provider, "tags": wanted_tags},
            "request_id": request_id_of(request),
        }
    )
