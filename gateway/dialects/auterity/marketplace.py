"""Document 003 ``GET /api/ai/models/marketplace``: every model the mesh holds or can get, with
``category`` (a task or capability) and ``sort_by`` (name, size, popularity, cost).

The list is the registry's catalogue (its models and the bundled ones, as 001's
``/models/available`` serves it) joined with the registered models' capabilities and status.
Popularity is measured: requests the inference service served for the model (language models
counted by the router's candidates, tensor models by the inference statistics); speech models are
not counted there, so theirs is null. Every model is self-hosted: the price is 0 and the body says
so rather than inventing one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import JSONResponse

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.auterity.responses import stamped
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import registry_pb2 as rpb
from services.common.errors import InvalidInput, ModelNotFound

router = dialect_router("auterity_models", "auterity")

PRICING = {
    "cost_per_1k_tokens": 0.0,
    "currency": "USD",
    "self_hosted": True,
    "note": "runs on this mesh's own workers: no per-request price; the cost is the hardware",
}
#: sort_by values and their default order.
SORTS = {"name": "asc", "size": "asc", "popularity": "desc", "cost": "asc"}


def _task(value: int) -> str:
    return common.ModelTask.Name(value).removeprefix("MODEL_TASK_").lower().replace("_", "-")


async def _measured(clients: Clients) -> tuple[dict[str, int], dict[str, int]]:
    """(requests served per model name, weights size of each language model), as measured."""
    stats = await clients.call(clients.inference.GetStats, ipb.GetStatsRequest(), idempotent=True)
    counts = {m.model_name: int(m.requests) for m in stats.models}
    try:
        routed = await clients.call(
            clients.inference.SelectModel,
            ipb.SelectModelRequest(capability="text-generation"),
            idempotent=True,
        )
    except ModelNotFound:  # no language model installed: nothing to count
        routed = ipb.SelectModelResponse()
    for c in routed.candidates:  # language models, under their public names
        counts[c.model_name] = int(c.requests)
    return counts, {c.model_name: int(c.size_bytes) for c in routed.candidates}


@router.get(
    "/api/ai/models/marketplace", summary="Browse the models the mesh holds or can get (document 003)"
)
async def marketplace(
    request: Request,
    clients: Clients,
    category: Annotated[
        str | None, Query(description="A task or capability, such as text-generation or chat.")
    ] = None,
    sort_by: Annotated[str, Query(description="name, size, popularity or cost.")] = "name",
    order: Annotated[str | None, Query(description="asc or desc; default depends on sort_by.")] = None,
) -> JSONResponse:
    """The catalogue, filtered and sorted."""
    key = sort_by.strip().lower()
    if key not in SORTS:
        raise InvalidInput(
            f"sort_by {sort_by!r} is not one of {', '.join(SORTS)}",
            details={"field": "sort_by", "allowed": list(SORTS)},
        )
    direction = (order or SORTS[key]).strip().lower()
    if direction not in ("asc", "desc"):
        raise InvalidInput("order must be asc or desc", details={"field": "order", "provided": order})
    available = await clients.call(
        clients.registry.ListAvailableModels, rpb.ListAvailableModelsRequest(), idempotent=True
    )
    registered = await clients.call(clients.registry.ListModels, rpb.ListModelsRequest(), idempotent=True)
    by_name = {m.name: m for m in registered.models}
    requests, sizes = await _measured(clients)
    items = []
    for m in available.models:
        reg = by_name.get(m.name)
        task = _task(m.task)
        capabilities = list(reg.capabilities) if reg is not None else []
        size = max(m.size_bytes, reg.size_bytes if reg is not None else 0, sizes.get(m.name, 0))
        counted = (
            m.task in (common.MODEL_TASK_TEXT_GENERATION, common.MODEL_TASK_TENSOR) or m.name in requests
        )
        items.append(
            {
                "id": m.name,
                "name": m.name,
                "category": task,
                "capabilities": capabilities or [task],
                "description": m.description,
                "provider": "meshserve",
                "source": m.source,
                "registered": reg is not None,
                "status": _task_status(reg),
                "available_offline": m.available_offline,
                "size_bytes": size,
                "popularity": {"requests": requests.get(m.name, 0) if counted else None},
                "pricing": PRICING,
            }
        )
    wanted = (category or "").strip().lower()
    if wanted:
        items = [i for i in items if wanted == i["category"] or wanted in i["capabilities"]]
    items.sort(key=lambda i: i["name"])  # ties (all costs are 0) stay in name order
    if key != "name" or direction == "desc":
        sort_key = {
            "name": lambda i: i["name"],
            "size": lambda i: i["size_bytes"],
            "popularity": lambda i: i["popularity"]["requests"] or 0,
            "cost": lambda i: i["pricing"]["cost_per_1k_tokens"],
        }[key]
        items.sort(key=sort_key, reverse=direction == "desc")
    categories = sorted({c for i in items for c in (i["category"], *i["capabilities"])})
    return stamped(
        request,
        {
            "models": items,
            "total": len(items),
            "categories": categories,
            "filters": {"category": category},
            "sort": {"by": key, "order": direction},
            "pricing_note": PRICING["note"],
        },
    )


def _task_status(model: common.Model | None) -> str:
    if model is None:
        return "available"
    return common.ModelStatus.Name(model.status).removeprefix("MODEL_STATUS_").lower()
