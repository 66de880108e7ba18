"""A generation whose Triton worker is killed mid-flight ends cleanly: a stream gets an in-band error
event and then ``[DONE]`` (never a hung stream), a plain request gets 503 with Retry-After (never a
500), and the next request is served again once the model is placed on a live worker."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator

import grpc
import httpx
import pytest

from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from tests.procs import Mesh, run_mesh

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CHAT = {"messages": [{"role": "user", "content": "Count from one to one hundred."}], "temperature": 0}
#: SmolLM2's end-of-turn token banned: the generation runs to max_tokens, long enough to be killed.
ENDLESS = {**CHAT, "logit_bias": {"2": -100}}


@pytest.fixture(scope="module")
def two_worker_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    env = {"MESHSERVE_INFERENCE_WORKERS": "2"}
    with run_mesh(tmp_path_factory.mktemp("killed"), env, preload_llm=True) as mesh:
        yield mesh


def llm_worker_pid(mesh: Mesh) -> int:
    with grpc.insecure_channel(mesh.address("inference")) as channel:
        workers = (
            ipb_grpc.InferenceServiceStub(channel).ListWorkers(ipb.ListWorkersRequest(), timeout=10).workers
        )
    return next(w.pid for w in workers if any("smollm2" in m for m in w.models))


def served_again(mesh: Mesh) -> None:
    deadline = time.monotonic() + 120
    url = f"{mesh.base_url}/v1/chat/completions"
    while httpx.post(url, json={**CHAT, "max_tokens": 2}, timeout=120).status_code != 200:
        assert time.monotonic() < deadline, "no chat served within 120 s of the worker's death"
        time.sleep(1)


def test_a_stream_gets_an_in_band_error_then_done(two_worker_mesh: Mesh) -> None:
    url = f"{two_worker_mesh.base_url}/v1/chat/completions"
    assert httpx.post(url, json={**CHAT, "max_tokens": 1}, timeout=300).status_code == 200
    with httpx.stream("POST", url, json={**ENDLESS, "max_tokens": 400, "stream": True}, timeout=60) as reply:
        assert reply.status_code == 200
        lines = reply.iter_lines()
        assert next(line for line in lines if line.startswith("data: "))
        os.kill(llm_worker_pid(two_worker_mesh), signal.SIGKILL)
        rest = [line for line in lines if line.startswith("data: ")]
    assert rest[-1] == "data: [DONE]", rest[-3:]
    errors = [json.loads(line[6:]) for line in rest[:-1] if '"error"' in line]
    assert errors and "went away" in errors[-1]["error"]["message"], rest[-3:]
    served_again(two_worker_mesh)


def test_a_plain_request_gets_503_with_retry_after(two_worker_mesh: Mesh) -> None:
    url = f"{two_worker_mesh.base_url}/v1/chat/completions"
    served_again(two_worker_mesh)
    pid = llm_worker_pid(two_worker_mesh)
    with httpx.Client(timeout=60) as http:
        killer = threading.Timer(0.5, os.kill, (pid, signal.SIGKILL))
        killer.start()
        reply = http.post(url, json={**ENDLESS, "max_tokens": 400})
        killer.join()
    assert reply.status_code == 503, reply.text
    assert reply.headers["Retry-After"] == "1"
    served_again(two_worker_mesh)
