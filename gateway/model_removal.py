"""Deleting a model, as its REST route asks it of two services.

The registry owns the versions and deletes them all at once, refusing before it deletes anything
when one is built in. The inference service owns what is loaded: it unloads every version of the
name that a worker holds, so that no worker goes on serving, or holding memory for, a model that
no longer exists. An unloaded tensor model stays unloaded until it is loaded again, so the
registry is asked first whether it would delete (``validate_only``): a refused delete unloads
nothing.
"""

from __future__ import annotations

from gateway.clients import MeshClients
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import registry_pb2 as rpb

#: States in which a worker holds (or is placing) a model.
_HELD = (common.MODEL_STATUS_LOADED, common.MODEL_STATUS_LOADING)


async def delete_model(clients: MeshClients, model_id: str) -> tuple[str, list[str]]:
    """Unloads and deletes every version of a model (by name or id); returns its name and the
    versions deleted. MODEL_NOT_FOUND for an unknown model, INVALID_INPUT for a built-in one."""
    found = await clients.call(
        clients.registry.GetModel, rpb.GetModelRequest(ref=common.ModelRef(name=model_id)), idempotent=True
    )
    name = found.model.name
    ref = common.ModelRef(name=name)
    check = rpb.DeleteModelRequest(ref=ref, all_versions=True, validate_only=True)
    await clients.call(clients.registry.DeleteModel, check, idempotent=True)
    states = await clients.call(
        clients.inference.ListModelStates, ipb.ListModelStatesRequest(), idempotent=True
    )
    for state in states.states:
        if state.model.name == name and state.status in _HELD:
            await clients.call(clients.inference.UnloadModel, ipb.UnloadModelRequest(model=state.model))
    deleted = await clients.call(
        clients.registry.DeleteModel, rpb.DeleteModelRequest(ref=ref, all_versions=True)
    )
    return name, list(deleted.deleted_versions)
