"""The inference service's model states, as the dialects that describe models read them: by
(name, version), a language model's with version ""."""

from __future__ import annotations

from gateway.clients import MeshClients
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb

States = dict[tuple[str, str], ipb.ModelState]


async def model_states(clients: MeshClients) -> States:
    """Every model version the pool knows. A language model may have several Triton models (its
    stored weights, a quantized variant): the one on a worker is the model's state."""
    reply = await clients.call(
        clients.inference.ListModelStates, ipb.ListModelStatesRequest(), idempotent=True
    )
    held_last = sorted(reply.states, key=lambda s: bool(s.worker_ids))
    return {(s.model.name, s.model.version): s for s in held_last}


def state_of(states: States, model: common.Model) -> ipb.ModelState | None:
    """The state of the registry model's own version (another version's state is not its own)."""
    return states.get((model.name, model.version)) or states.get((model.name, ""))
