"""Triton's own queue is bounded: a tensor model's dynamic batcher holds at most
MESHSERVE_INFERENCE_TRITON_MAX_QUEUE_SIZE requests per worker and priority level, and the request
Triton rejects past it ("Exceeds maximum queue size") is refused with 429 and Retry-After in each
surface's envelope, never a 500 or a 503, and the worker is not taken for dead. A real mesh: the
bundled ``example`` model, a queue of one, and a batching delay long enough for requests to pile up."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.procs import Mesh, free_port, run_mesh

pytestmark = [pytest.mark.slow, pytest.mark.integration]

METRICS_PORT = free_port()
KSERVE = {"inputs": [{"name": "INPUT", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}
PYTORCH_IF = {"model_name": "example", "inputs": [1.0, 2.0, 3.0]}


@pytest.fixture(scope="module")
def queue_of_one(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    env = {
        "MESHSERVE_INFERENCE_TRITON_MAX_QUEUE_SIZE": "1",
        # Each request waits up to 0.3 s for a batch to form: the next ones find the queue full.
        "MESHSERVE_INFERENCE_MAX_QUEUE_DELAY_MICROSECONDS": "300000",
        "MESHSERVE_INFERENCE_MAX_IN_FLIGHT_PER_MODEL": "0",  # only Triton refuses here
        "MESHSERVE_INFERENCE_METRICS_PORT": str(METRICS_PORT),
    }
    with run_mesh(tmp_path_factory.mktemp("triton-queue"), env) as mesh:
        yield mesh


async def burst(base_url: str, path: str, body: dict, clients: int = 12) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        return list(await asyncio.gather(*(http.post(path, json=body) for _ in range(clients))))


def _refused(replies: list[httpx.Response]) -> list[httpx.Response]:
    codes = {r.status_code for r in replies}
    assert codes <= {200, 429}, [r.text for r in replies if r.status_code not in (200, 429)][:3]
    refused = [r for r in replies if r.status_code == 429]
    assert refused and len(refused) < len(replies), codes
    for reply in refused:
        assert reply.headers["Retry-After"] == "1"
    return refused


def test_the_model_config_bounds_the_queue(queue_of_one: Mesh) -> None:
    reply = httpx.post(f"{queue_of_one.base_url}/v2/models/example/infer", json=KSERVE, timeout=120)
    assert reply.status_code == 200, reply.text  # loaded with the bounded queue: Triton took the config
    (config,) = queue_of_one.data_dir.rglob("example--v1--*/config.pbtxt")
    policy = re.search(r"default_queue_policy \{(.*?)\}", config.read_text(), re.S)
    assert policy and "max_queue_size: 1" in policy[1] and "timeout_action: REJECT" in policy[1]
    metrics = httpx.get(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=10).text
    assert re.search(r"^meshserve_inference_triton_max_queue_size 1\.0$", metrics, re.M)


def test_kserve_callers_get_429_when_tritons_queue_is_full(queue_of_one: Mesh) -> None:
    refused = _refused(asyncio.run(burst(queue_of_one.base_url, "/v2/models/example/infer", KSERVE)))
    body = refused[0].json()
    assert set(body) == {"error"} and "at capacity" in body["error"], body


def test_001_callers_get_429_when_tritons_queue_is_full(queue_of_one: Mesh) -> None:
    refused = _refused(asyncio.run(burst(queue_of_one.base_url, "/predict", PYTORCH_IF)))
    error = refused[0].json()
    assert error["success"] is False and error["code"] == "RATE_LIMIT_EXCEEDED", error
    assert "at capacity" in error["error"] and "queue=triton" in error["detail"], error
    # The worker was only busy: it was kept, and answers at once afterwards.
    assert httpx.post(f"{queue_of_one.base_url}/predict", json=PYTORCH_IF, timeout=30).status_code == 200
    metrics = httpx.get(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=10).text
    assert re.search(r'^meshserve_inference_refused_total\{model="[^"]*example[^"]*"\} [1-9]', metrics, re.M)
