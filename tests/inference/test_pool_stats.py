"""The autoscaler's pool-wide statistics: two inference endpoints (real gRPC servers serving the
InferenceService's GetStats) summed per model, the endpoints counted named, and one that does not
answer left out."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.autoscaler.pool_stats import PoolStatsSource, merge_stats
from services.common.discovery import StaticDiscovery
from services.common.inference_endpoints import InferenceEndpoints
from services.common.settings import MeshEndpoints
from tests.procs import free_port


def model(name: str, requests: int, in_flight: int, p99: float, mean: float) -> ipb.ModelStats:
    return ipb.ModelStats(
        model_name=name,
        requests=requests,
        in_flight=in_flight,
        queue_depth=1,
        request_rate=2.0,
        in_flight_seconds=10.0,
        latency=ipb.LatencySummary(p50_ms=p99 / 2, p99_ms=p99, mean_ms=mean),
    )


class Replica(ipb_grpc.InferenceServiceServicer):
    def __init__(self, reply: ipb.GetStatsResponse) -> None:
        self.reply = reply

    async def GetStats(
        self, request: ipb.GetStatsRequest, context: grpc.aio.ServicerContext
    ) -> ipb.GetStatsResponse:
        return self.reply


@pytest.fixture
async def endpoints() -> AsyncIterator[list[str]]:
    servers, addresses = [], []
    for reply in (
        ipb.GetStatsResponse(
            models=[model("m", 10, 3, 40.0, 10.0)], workers=[ipb.WorkerStats(worker_id="w0")]
        ),
        ipb.GetStatsResponse(
            models=[model("m", 30, 5, 90.0, 20.0), model("n", 1, 1, 5.0, 5.0)],
            workers=[ipb.WorkerStats(worker_id="w0")],
        ),
    ):
        server = grpc.aio.server()
        ipb_grpc.add_InferenceServiceServicer_to_server(Replica(reply), server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        servers.append(server)
        addresses.append(f"127.0.0.1:{port}")
    yield addresses
    for server in servers:
        await server.stop(None)


async def test_the_pool_is_the_sum_of_every_endpoint(endpoints: list[str]) -> None:
    down = f"127.0.0.1:{free_port()}"
    discovery = StaticDiscovery(MeshEndpoints(inference_address=",".join([*endpoints, down])))
    source = PoolStatsSource(
        InferenceEndpoints(discovery),
        ipb_grpc.InferenceServiceStub(grpc.aio.insecure_channel(down)),
        timeout=1.0,
    )
    try:
        stats = await source.stats()
    finally:
        await source.close()
    by_name = {m.model_name: m for m in stats.models}
    m = by_name["m"]
    assert (m.requests, m.in_flight, m.queue_depth, m.request_rate, m.in_flight_seconds) == (
        40,
        8,
        2,
        4.0,
        20.0,
    )
    assert m.latency.p99_ms == 90.0  # the worst replica's
    assert m.latency.mean_ms == pytest.approx((10 * 10.0 + 30 * 20.0) / 40)
    assert by_name["n"].requests == 1
    assert sorted(w.worker_id for w in stats.workers) == sorted(f"{e}/w0" for e in endpoints)
    assert source.last_endpoints == tuple(endpoints)  # the silent one is not counted


async def test_no_endpoint_answering_is_unavailable() -> None:
    down = f"127.0.0.1:{free_port()}"
    discovery = StaticDiscovery(MeshEndpoints(inference_address=down))
    source = PoolStatsSource(
        InferenceEndpoints(discovery),
        ipb_grpc.InferenceServiceStub(grpc.aio.insecure_channel(down)),
        timeout=1.0,
    )
    try:
        with pytest.raises(Exception) as info:
            await source.stats()
        assert getattr(info.value, "code", "") == "BACKEND_UNAVAILABLE"
    finally:
        await source.close()


def test_merging_one_reply_keeps_it() -> None:
    reply = ipb.GetStatsResponse(models=[model("m", 5, 1, 10.0, 4.0)], uptime_seconds=3.0)
    merged = merge_stats([("a:1", reply)])
    assert merged.models[0].requests == 5 and merged.models[0].latency.mean_ms == 4.0
    assert merged.uptime_seconds == 3.0
