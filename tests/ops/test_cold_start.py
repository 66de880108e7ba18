"""Scale to zero end to end: a policy with ``min_replicas`` 0 on ``example`` takes the idle pool to zero
workers; the next request waits (it does not fail), is counted as demand while no worker exists, the
autoscaler scales to one (a cold start) and the request succeeds. The same worker's own Triton metrics
appear on the inference service's /metrics with its ``worker`` label, and its utilisation reads the
same to every reader."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import grpc
import httpx
import pytest

from meshserve.v1 import autoscaler_pb2 as apb
from meshserve.v1 import autoscaler_pb2_grpc as apb_grpc
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from tests.procs import Mesh, free_port, run_mesh

pytestmark = [pytest.mark.slow, pytest.mark.integration]

METRICS_PORT = free_port()
BODY = {"model_name": "example", "inputs": [1.0, 2.0, 3.0, 4.0]}


@pytest.fixture(scope="module")
def zero_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    env = {
        "MESHSERVE_INFERENCE_WORKERS": "1",
        "MESHSERVE_INFERENCE_METRICS_PORT": str(METRICS_PORT),
        "MESHSERVE_AUTOSCALER_PERIOD_SECONDS": "0.5",
        "MESHSERVE_AUTOSCALER_WINDOW_SECONDS": "0",
    }
    with run_mesh(tmp_path_factory.mktemp("zero"), env) as mesh:
        yield mesh


def policy(min_replicas: int) -> apb.PutPolicyRequest:
    return apb.PutPolicyRequest(
        policy=apb.Policy(
            target="example",
            target_metric="in_flight",
            target_value=4,
            min_replicas=min_replicas,
            max_replicas=1,
            scale_up_cooldown_seconds=1,
            scale_down_cooldown_seconds=1,
            idle_seconds_to_zero=1,
        )
    )


async def test_idle_pool_scales_to_zero_and_the_next_request_cold_starts_a_worker(zero_mesh: Mesh) -> None:
    scaler_channel = grpc.aio.insecure_channel(zero_mesh.address("autoscaler"))
    inference_channel = grpc.aio.insecure_channel(zero_mesh.address("inference"))
    scaler = apb_grpc.AutoscalerServiceStub(scaler_channel)
    inference = ipb_grpc.InferenceServiceStub(inference_channel)
    decisions: list[apb.Decision] = []
    changed = asyncio.Event()

    async def collect() -> None:
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.CancelledError):
            async for item in scaler.WatchDecisions(apb.WatchDecisionsRequest(target="example")):
                decisions.append(item.decision)
                changed.set()

    async def decision(matches: object, timeout: float) -> apb.Decision:
        async def wait() -> apb.Decision:
            while True:
                found = next((d for d in decisions if matches(d)), None)  # type: ignore[operator]
                if found is not None:
                    return found
                changed.clear()
                await changed.wait()

        return await asyncio.wait_for(wait(), timeout)

    async with httpx.AsyncClient(base_url=zero_mesh.base_url, timeout=90) as http:
        assert (await http.post("/predict", json=BODY)).status_code == 200  # placed on worker-0
        watcher = asyncio.create_task(collect())
        try:
            await scaler.PutPolicy(policy(min_replicas=0), timeout=10)
            down = await decision(lambda d: d.to_replicas == 0, 30)
            assert down.from_replicas == 1 and down.applied and "idle" in down.reason
            workers = await inference.ListWorkers(ipb.ListWorkersRequest(), timeout=5)
            assert [w for w in workers.workers if w.state != "stopping"] == []

            # At zero workers a request waits, and is seen as demand before any worker exists.
            request = asyncio.create_task(http.post("/predict", json=BODY))
            seen: ipb.ModelStats | None = None
            while seen is None and not request.done():
                stats = await inference.GetStats(ipb.GetStatsRequest(model_name="example"), timeout=5)
                model = next((m for m in stats.models if m.model_name == "example"), None)
                if model is not None and model.in_flight >= 1 and model.replicas == 0:
                    seen = model
                await asyncio.sleep(0.05)
            assert seen is not None and seen.queue_depth >= 1
            reply = await request
            assert reply.status_code == 200, reply.text
            up = await decision(lambda d: d.from_replicas == 0 and d.to_replicas == 1, 5)
            assert up.applied and up.reason.startswith("cold start")
            # The one waiting request, as mean concurrency since the previous look: it arrived
            # within that interval, so more than nothing and at most one.
            assert 0 < up.inputs["in_flight"] <= 1
            await scaler.PutPolicy(policy(min_replicas=1), timeout=10)  # keep the new worker for the checks
        finally:
            watcher.cancel()
            await scaler_channel.close()

    stats = await inference.GetStats(ipb.GetStatsRequest(), timeout=5)
    served = next(w for w in stats.workers if w.requests >= 1)
    again = await inference.GetStats(ipb.GetStatsRequest(), timeout=5)
    # A fixed window: a second reader right after the first sees the same busy fraction, not zero.
    assert served.utilization > 0
    assert next(w for w in again.workers if w.worker_id == served.worker_id).utilization > 0
    await inference_channel.close()

    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"http://127.0.0.1:{METRICS_PORT}/metrics")).text
    assert f'meshserve_triton_worker_up{{worker="{served.worker_id}"}} 1.0' in text
    line = next(
        x
        for x in text.splitlines()
        if x.startswith("nv_inference_request_success_total{") and f'worker="{served.worker_id}"' in x
    )
    assert float(line.rsplit(" ", 1)[1]) >= 1
