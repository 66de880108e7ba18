"""A request sent while a service restarts waits for it instead of failing.

kill -9 of the inference or the speech service: the launcher starts it again in 2-3 s. A prediction,
a chat and a TTS request sent right after the kill get 200 (the gateway waits up to
``restart_wait_seconds`` for the service to answer again), and a service that stays away is answered
503 after that wait, not at once and not at the call's deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Iterator

import grpc
import httpx
import psutil
import pytest

from gateway.clients import MeshClients
from meshserve.v1 import inference_pb2 as ipb
from services.common.errors import MeshError
from services.common.settings import MeshEndpoints
from tests.procs import Mesh, free_port, run_mesh

pytestmark = pytest.mark.slow

PREDICT = {"inputs": [{"name": "INPUT", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}
CHAT = {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4, "temperature": 0}
SPEECH = {"model": "tts-1", "voice": "alloy", "input": "Hello there.", "response_format": "wav"}


@pytest.fixture(scope="module")
def restart_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    with run_mesh(tmp_path_factory.mktemp("restart-wait"), preload_llm=True) as mesh:
        with httpx.Client(base_url=mesh.base_url, timeout=300) as http:  # everything loaded once
            reply = http.post("/v2/models/example/infer", json=PREDICT)
            assert reply.status_code == 200, reply.text
            assert http.post("/v1/chat/completions", json=CHAT).status_code == 200
            assert http.post("/v1/audio/speech", json=SPEECH).status_code == 200
        yield mesh


def is_gone(pid: int) -> bool:
    """Whether a process has ended (reaped, or a zombie waiting to be)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def service_pid(mesh: Mesh, name: str) -> int:
    return int(json.loads((mesh.data_dir / "launcher.json").read_text())["processes"][name]["pid"])


async def sent_right_after_killing(mesh: Mesh, service: str, calls: dict[str, tuple[str, dict]]) -> dict:
    """Kills ``service`` with SIGKILL, then at once sends every call; their statuses by name."""
    pid = service_pid(mesh, service)
    async with httpx.AsyncClient(base_url=mesh.base_url, timeout=120) as http:
        os.kill(pid, signal.SIGKILL)
        replies = await asyncio.gather(*(http.post(path, json=body) for path, body in calls.values()))
    deadline = time.monotonic() + 10  # the launcher's state file follows its restart
    while service_pid(mesh, service) == pid:
        assert time.monotonic() < deadline, "the launcher did not restart the service"
        await asyncio.sleep(0.1)
    assert is_gone(pid)
    return {name: (r.status_code, r.text[:200]) for name, r in zip(calls, replies, strict=True)}


def test_predictions_and_chats_sent_while_inference_restarts_succeed(restart_mesh: Mesh) -> None:
    calls = {
        "predict": ("/v2/models/example/infer", PREDICT),
        "chat": ("/v1/chat/completions", CHAT),
    }
    statuses = asyncio.run(sent_right_after_killing(restart_mesh, "inference", calls))
    assert statuses == {"predict": (200, statuses["predict"][1]), "chat": (200, statuses["chat"][1])}


def test_speech_sent_while_the_speech_service_restarts_succeeds(restart_mesh: Mesh) -> None:
    calls = {"tts": ("/v1/audio/speech", SPEECH)}
    statuses = asyncio.run(sent_right_after_killing(restart_mesh, "speech", calls))
    assert statuses["tts"][0] == 200, statuses


async def test_a_service_that_stays_away_is_unavailable_after_the_wait() -> None:
    nobody = f"127.0.0.1:{free_port()}"
    endpoints = MeshEndpoints(inference_address=nobody)
    request = ipb.GetStatsRequest()
    for wait, least, most in ((0.0, 0.0, 0.5), (1.0, 0.5, 3.0)):
        clients = MeshClients(endpoints, call_timeout=30, restart_wait=wait)
        try:
            started = time.monotonic()
            with pytest.raises(MeshError) as failure:
                await clients.call(clients.inference.GetStats, request, idempotent=True)
            took = time.monotonic() - started
            assert failure.value.grpc_code == grpc.StatusCode.UNAVAILABLE
            assert least <= took <= most, (wait, took)
            started = time.monotonic()
            await clients.connected("inference")  # returns (it does not raise) after the wait
            assert time.monotonic() - started <= most
        finally:
            await clients.pool.close()
