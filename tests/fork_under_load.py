"""Spawns children while this process's gRPC is busy, as a service does, and prints what became of
them: ``python -m tests.fork_under_load SECONDS``. Imports :mod:`services` first, as every service's
entry point does (before grpc); the caller reads gRPC's own log lines from stderr."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time

import uvloop

from services.common.children import dying_with_parent  # imports services: before grpc, as a service


async def main(seconds: float) -> dict[str, int]:
    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    target = f"127.0.0.1:{port}"
    stop = threading.Event()
    stub = health_pb2_grpc.HealthStub(grpc.aio.insecure_channel(target))

    async def calls() -> None:
        while not stop.is_set():
            await stub.Check(health_pb2.HealthCheckRequest())

    def thread_calls() -> None:  # gRPC in other threads too, as a service's sync clients are
        sync = health_pb2_grpc.HealthStub(grpc.insecure_channel(target))
        while not stop.is_set():
            sync.Check(health_pb2.HealthCheckRequest(), timeout=5)

    tasks = [asyncio.create_task(calls()) for _ in range(16)]
    for _ in range(4):
        threading.Thread(target=thread_calls, daemon=True).start()
    outcome = {"spawned": 0, "failed": 0, "hung": 0}
    spawn = dying_with_parent("true")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        child = await asyncio.create_subprocess_exec(*spawn.argv, start_new_session=True)
        outcome["spawned"] += 1
        try:
            outcome["failed"] += await asyncio.wait_for(child.wait(), 10) != 0
        except TimeoutError:
            outcome["hung"] += 1
            child.kill()
            break
    stop.set()
    for task in tasks:
        task.cancel()
    return outcome


if __name__ == "__main__":
    print(json.dumps(uvloop.run(main(float(sys.argv[1])))), flush=True)
