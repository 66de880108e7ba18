"""KServe v2's model repository extension, as Triton serves it, so that ``tritonclient``'s
``get_model_repository_index``, ``load_model`` and ``unload_model`` work against the mesh:

* ``POST /v2/repository/index``: every registered model (its newest version), ``READY`` or
  ``UNAVAILABLE`` with the reason;
* ``POST /v2/repository/models/{name}/load`` and ``…/unload``: ``LoadModel`` and ``UnloadModel``,
  which every inference replica carries out.

A model is ready when it is loaded, or stored and loaded on its first request; it is unavailable
when it was unloaded (it answers MODEL_NOT_LOADED until loaded again) or failed to load. A load
with a configuration override (Triton's ``parameters.config`` or files) is refused: a model's
configuration is set when it is uploaded, and by the load's own fields.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StrictBool

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.json_body import body_schema, json_body
from gateway.model_states import model_states, state_of
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import registry_pb2 as rpb
from services.common.errors import InvalidInput

router = dialect_router("kserve_repository", "kserve-v2")

#: Registry states of a model that a request can be served from (loaded, or loaded on demand).
SERVABLE = (common.MODEL_STATUS_READY, common.MODEL_STATUS_LOADING, common.MODEL_STATUS_LOADED)


class IndexBody(BaseModel):
    """``{"ready": true}`` lists only the ready models."""

    model_config = ConfigDict(extra="forbid")

    ready: StrictBool = False


class ControlBody(BaseModel):
    """A load's or unload's ``parameters`` (``unload_dependents`` has nothing to act on here)."""

    model_config = ConfigDict(extra="forbid")

    parameters: dict[str, Any] = {}


def availability(model: common.Model, held: ipb.ModelState | None) -> tuple[bool, str]:
    """Whether a model can be served now, and why not."""
    if held is not None and held.status == common.MODEL_STATUS_UNLOADED:
        return False, "unloaded"
    if held is not None and held.status == common.MODEL_STATUS_FAILED:
        return False, held.status_reason or "failed to load"
    if model.status == common.MODEL_STATUS_FAILED:
        return False, model.status_reason or "failed to load"
    return model.status in SERVABLE, ""


@router.post(
    "/v2/repository/index",
    operation_id="kserve_repository_index",
    summary="Model repository index (KServe v2 repository extension)",
    openapi_extra={"requestBody": body_schema(IndexBody, required=False)},
)
async def repository_index(request: Request, clients: Clients) -> list[dict[str, str]]:
    """Every model's newest version with its state."""
    body = await json_body(request, IndexBody, as_triton=True)
    listed = await clients.call(clients.registry.ListModels, rpb.ListModelsRequest(), idempotent=True)
    states = await model_states(clients)
    index = []
    for model in listed.models:
        ready, reason = availability(model, state_of(states, model))
        if body.ready and not ready:
            continue
        entry = {"name": model.name, "version": model.version, "state": "READY" if ready else "UNAVAILABLE"}
        index.append({**entry, "reason": reason} if reason else entry)
    return index


@router.post(
    "/v2/repository/models/{name}/load",
    summary="Load a model (KServe v2 repository extension)",
    openapi_extra={"requestBody": body_schema(ControlBody, required=False)},
)
async def load(name: str, request: Request, clients: Clients) -> JSONResponse:
    """Loads the model on every inference replica."""
    body = await json_body(request, ControlBody, as_triton=True)
    # Triton's "config" and "file:<path>" parameters override the model's configuration and files.
    overrides = sorted(key for key in body.parameters if key == "config" or key.startswith("file:"))
    if overrides:
        raise InvalidInput(
            f"a load cannot override the model's configuration ({', '.join(overrides)})",
            details={"field": f"parameters.{overrides[0]}"},
            suggestion="upload the model as a new version with the configuration it needs",
        )
    await clients.call(clients.inference.LoadModel, ipb.LoadModelRequest(model=common.ModelRef(name=name)))
    return JSONResponse({})


@router.post(
    "/v2/repository/models/{name}/unload",
    summary="Unload a model (KServe v2 repository extension)",
    openapi_extra={"requestBody": body_schema(ControlBody, required=False)},
)
async def unload(name: str, request: Request, clients: Clients) -> JSONResponse:
    """Unloads the model from every inference replica; it answers MODEL_NOT_LOADED until loaded again."""
    await json_body(request, ControlBody, as_triton=True)
    await clients.call(
        clients.inference.UnloadModel, ipb.UnloadModelRequest(model=common.ModelRef(name=name))
    )
    return JSONResponse({})
