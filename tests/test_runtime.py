"""The service runtime in real processes: health, reflection, request ids, graceful drain on SIGTERM."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from meshserve.v1 import autoscaler_pb2 as pb
from meshserve.v1 import autoscaler_pb2_grpc as pb_grpc
from tests.procs import start_service

pytestmark = pytest.mark.integration

#: Each service runs on the loop ``MESHSERVE_<NAME>_EVENT_LOOP`` names (asyncio unless the service
#: sets another default: the inference service's is uvloop).
LOOPS = ["uvloop", "asyncio"]


def test_the_inference_service_starts_its_triton_worker_on_uvloop_by_default(tmp_path: Path) -> None:
    """Its default loop, and what once crashed on it: starting a Triton worker (now under setpriv)."""
    import psutil

    proc = start_service("inference", tmp_path, env={"MESHSERVE_INFERENCE_WORKERS": "1"}, timeout=180)
    try:
        assert proc.loop == "uvloop"
        workers = [p for p in psutil.Process(proc.process.pid).children() if p.name() == "tritonserver"]
        assert len(workers) == 1, "ready means its one worker serves"
    finally:
        assert proc.terminate() == 0


@pytest.mark.parametrize("loop", LOOPS)
async def test_health_and_reflection(tmp_path: Path, loop: str) -> None:
    proc = start_service("autoscaler", tmp_path, env={"MESHSERVE_AUTOSCALER_EVENT_LOOP": loop})
    assert proc.loop == loop
    try:
        async with grpc.aio.insecure_channel(proc.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for service in ("", "meshserve.v1.AutoscalerService"):
                reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            responses = stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            names = set()
            async for response in responses:
                names |= {s.name for s in response.list_services_response.service}
            assert {"meshserve.v1.AutoscalerService", "grpc.health.v1.Health"} <= names
    finally:
        assert proc.terminate() == 0


@pytest.mark.parametrize("loop", LOOPS)
async def test_sigterm_drains_in_flight_call(tmp_path: Path, loop: str) -> None:
    """SIGTERM while a slow call runs: the call completes, then the process exits 0 (on either loop:
    the signal handlers are the loop's)."""
    env = {"SLOW_SECONDS": "2", "MESHSERVE_AUTOSCALER_EVENT_LOOP": loop}
    proc = start_service("autoscaler", tmp_path, env=env, module="tests.slow_service")
    assert proc.loop == loop
    async with grpc.aio.insecure_channel(proc.address) as channel:
        call = asyncio.ensure_future(
            pb_grpc.AutoscalerServiceStub(channel).GetAutoscalerStats(
                pb.GetAutoscalerStatsRequest(), timeout=15
            )
        )
        await asyncio.sleep(0.5)
        proc.process.send_signal(15)
        reply = await call
        assert reply.evaluations == 42
    assert await asyncio.to_thread(proc.process.wait, 20) == 0


async def test_new_calls_refused_while_draining(tmp_path: Path) -> None:
    """After SIGTERM the health check stops saying SERVING (balancers route away)."""
    proc = start_service("autoscaler", tmp_path, env={"SLOW_SECONDS": "3"}, module="tests.slow_service")
    async with grpc.aio.insecure_channel(proc.address) as channel:
        slow = asyncio.ensure_future(
            pb_grpc.AutoscalerServiceStub(channel).GetAutoscalerStats(
                pb.GetAutoscalerStatsRequest(), timeout=15
            )
        )
        await asyncio.sleep(0.5)
        proc.process.send_signal(15)
        await asyncio.sleep(0.3)
        async with grpc.aio.insecure_channel(proc.address) as fresh:
            try:
                reply = await health_pb2_grpc.HealthStub(fresh).Check(
                    health_pb2.HealthCheckRequest(), timeout=2
                )
                status = reply.status
            except grpc.aio.AioRpcError as error:
                status = error.code()
        assert status != health_pb2.HealthCheckResponse.SERVING
        assert (await slow).evaluations == 42
    assert await asyncio.to_thread(proc.process.wait, 20) == 0


async def test_policy_round_trip_and_validation(tmp_path: Path) -> None:
    proc = start_service("autoscaler", tmp_path)
    try:
        async with grpc.aio.insecure_channel(proc.address) as channel:
            stub = pb_grpc.AutoscalerServiceStub(channel)
            policy = pb.Policy(target="example", target_metric="queue_depth", target_value=8, max_replicas=3)
            stored = (await stub.PutPolicy(pb.PutPolicyRequest(policy=policy), timeout=5)).policy
            assert stored.max_replicas == 3 and stored.scale_up_step == 1
            listed = await stub.ListPolicies(pb.ListPoliciesRequest(), timeout=5)
            assert [p.target for p in listed.policies] == ["example"]
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.PutPolicy(
                    pb.PutPolicyRequest(policy=pb.Policy(target="x", target_metric="nope")), timeout=5
                )
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "target_metric" in caught.value.details()
    finally:
        assert proc.terminate() == 0
