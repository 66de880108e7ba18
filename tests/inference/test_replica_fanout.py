"""Which inference replicas a load or unload is passed on to (the rest is exercised for real by
tests/ops/test_replicas.py): every instance discovery lists except this process, and a replica that
does not answer is left out of the answers without failing the command."""

from __future__ import annotations

from meshserve.v1 import common_pb2 as cpb
from meshserve.v1 import inference_pb2 as ipb
from services.common.discovery.base import StaticDiscovery
from services.common.settings import MeshEndpoints
from services.inference.replicas import InferenceReplicas
from tests.procs import free_port


def replicas(addresses: str, own_port: int) -> InferenceReplicas:
    discovery = StaticDiscovery(MeshEndpoints(inference_address=addresses))
    return InferenceReplicas(discovery, "127.0.0.1", own_port)


async def test_this_process_is_left_out_by_its_port_on_a_local_address() -> None:
    fanout = replicas("127.0.0.1:7001,127.0.0.1:7101,10.0.0.7:7001", 7001)
    assert await fanout.others() == ["127.0.0.1:7101", "10.0.0.7:7001"]


async def test_a_replica_that_does_not_answer_is_left_out_of_the_sum() -> None:
    silent = free_port()  # nothing listens there
    fanout = replicas(f"127.0.0.1:7001,127.0.0.1:{silent}", 7001)
    request = ipb.UnloadModelRequest(model=cpb.ModelRef(name="m"))
    try:
        assert await fanout.unload(request, timeout=2.0) == 0
    finally:
        await fanout.close()
    assert not request.this_replica_only  # the caller's request is not changed
