"""The embedded autoscaler's local driver over several inference replicas (real gRPC servers that
keep what they were told): a mesh-wide count is spread over the replicas, each told its own share
(never passed on), at least one worker each; a replica that does not answer is left out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from meshserve.v1 import common_pb2 as cpb
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.autoscaler.drivers import LocalDriver, spread
from services.common.discovery import StaticDiscovery
from services.common.inference_endpoints import InferenceEndpoints
from services.common.settings import MeshEndpoints
from tests.procs import free_port


class Replica(ipb_grpc.InferenceServiceServicer):
    """An inference replica's worker pool and placements, as its calls leave them."""

    def __init__(self) -> None:
        self.workers = 1
        self.holders: dict[str, int] = {}
        self.calls: list[str] = []

    async def ListWorkers(
        self, request: ipb.ListWorkersRequest, context: grpc.aio.ServicerContext
    ) -> ipb.ListWorkersResponse:
        return ipb.ListWorkersResponse(
            workers=[ipb.Worker(id=f"w{i}", state="ready") for i in range(self.workers)]
        )

    async def SetWorkerCount(
        self, request: ipb.SetWorkerCountRequest, context: grpc.aio.ServicerContext
    ) -> ipb.SetWorkerCountResponse:
        self.workers = request.count
        self.calls.append(f"workers={request.count}")
        return ipb.SetWorkerCountResponse()

    async def ListModelStates(
        self, request: ipb.ListModelStatesRequest, context: grpc.aio.ServicerContext
    ) -> ipb.ListModelStatesResponse:
        return ipb.ListModelStatesResponse(
            states=[
                ipb.ModelState(model=cpb.ModelRef(name=name), worker_ids=[f"w{i}" for i in range(n)])
                for name, n in self.holders.items()
            ]
        )

    async def LoadModel(
        self, request: ipb.LoadModelRequest, context: grpc.aio.ServicerContext
    ) -> ipb.LoadModelResponse:
        assert request.this_replica_only  # each replica hears its own share, nothing is passed on
        self.holders[request.model.name] = request.replicas
        self.calls.append(f"load {request.model.name}={request.replicas}")
        return ipb.LoadModelResponse()

    async def UnloadModel(
        self, request: ipb.UnloadModelRequest, context: grpc.aio.ServicerContext
    ) -> ipb.UnloadModelResponse:
        assert request.this_replica_only and request.standby
        self.holders.pop(request.model.name, None)
        self.calls.append(f"standby {request.model.name}")
        return ipb.UnloadModelResponse()


@pytest.fixture
async def replicas() -> AsyncIterator[tuple[list[Replica], LocalDriver]]:
    servers, fakes, addresses = [], [], []
    for _ in range(2):
        fake, server = Replica(), grpc.aio.server()
        ipb_grpc.add_InferenceServiceServicer_to_server(fake, server)
        addresses.append(f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}")
        await server.start()
        servers.append(server)
        fakes.append(fake)
    down = f"127.0.0.1:{free_port()}"  # listed by discovery, never answering
    discovery = StaticDiscovery(MeshEndpoints(inference_address=",".join([*addresses, down])))
    endpoints = InferenceEndpoints(discovery)
    yield fakes, LocalDriver(endpoints, timeout=1.0, ready_timeout=5.0)
    await endpoints.close()
    for server in servers:
        await server.stop(None)


def test_a_count_is_spread_evenly_and_never_below_one_each() -> None:
    assert spread(5, 2) == [3, 2]
    assert spread(4, 2) == [2, 2]
    assert spread(1, 3) == [1, 1, 1]
    assert spread(0, 2) == [0, 0]


async def test_the_pool_is_spread_over_the_replicas_that_answer(
    replicas: tuple[list[Replica], LocalDriver],
) -> None:
    (a, b), driver = replicas
    assert await driver.current("*") == 2
    await driver.apply("*", 3, "test")
    assert (a.workers, b.workers) == (2, 1) and await driver.current("*") == 3
    await driver.apply("*", 1, "test")
    assert (a.workers, b.workers) == (1, 1)  # each replica keeps a worker to answer its share


async def test_a_model_target_is_placed_on_its_share_of_each_replica(
    replicas: tuple[list[Replica], LocalDriver],
) -> None:
    (a, b), driver = replicas
    await driver.apply("*", 2, "test")
    await driver.apply("m", 4, "test")
    assert (a.workers, b.workers) == (2, 2) and (a.holders["m"], b.holders["m"]) == (2, 2)
    assert await driver.current("m") == 4
    await driver.apply("m", 0, "test")  # the pool target keeps its workers: the model goes standby
    assert a.calls[-1] == b.calls[-1] == "standby m" and (a.workers, b.workers) == (1, 1)
    assert await driver.current("m") == 0
