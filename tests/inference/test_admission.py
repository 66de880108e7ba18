"""Overload: a model takes at most MESHSERVE_INFERENCE_MAX_IN_FLIGHT_PER_MODEL tensor requests at
once, and a language model its batch slots plus MESHSERVE_INFERENCE_LLM_MAX_WAITING sequences; the
ones past it are refused at once with 429 and Retry-After in the surface's envelope, and every
admitted one succeeds (nothing waits until its deadline, nothing fails with a 5xx)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest

from services.common.errors import RateLimitExceeded
from services.inference.llm.admission import SequenceAdmission
from tests.procs import Mesh, free_port, run_mesh

pytestmark = [pytest.mark.slow, pytest.mark.integration]

METRICS_PORT = free_port()


@pytest.fixture(scope="module")
def tight_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    env = {
        "MESHSERVE_INFERENCE_MAX_IN_FLIGHT_PER_MODEL": "1",
        "MESHSERVE_INFERENCE_LLM_MAX_BATCH": "1",
        "MESHSERVE_INFERENCE_LLM_MAX_WAITING": "0",
        "MESHSERVE_INFERENCE_METRICS_PORT": str(METRICS_PORT),
    }
    with run_mesh(tmp_path_factory.mktemp("admission"), env) as mesh:
        yield mesh


async def hammer(
    base_url: str, path: str, body: dict, clients: int = 24, each: int = 15
) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:

        async def one_client() -> list[httpx.Response]:
            return [await http.post(path, json=body) for _ in range(each)]

        batches = await asyncio.gather(*(one_client() for _ in range(clients)))
    return [reply for batch in batches for reply in batch]


def test_requests_past_the_model_capacity_are_refused_at_once_with_retry_after(tight_mesh: Mesh) -> None:
    body = {"model_name": "example", "inputs": [1.0, 2.0, 3.0]}
    assert httpx.post(f"{tight_mesh.base_url}/predict", json=body, timeout=120).status_code == 200
    replies = asyncio.run(hammer(tight_mesh.base_url, "/predict", body))
    codes = {r.status_code for r in replies}
    assert codes <= {200, 429}, [r.text for r in replies if r.status_code not in (200, 429)][:3]
    refused = [r for r in replies if r.status_code == 429]
    assert refused and len(refused) < len(replies), "the load neither exceeded the capacity nor fit it"
    for reply in refused[:5]:
        assert reply.headers["Retry-After"] == "1"
        error = reply.json()
        assert error["success"] is False and error["code"] == "RATE_LIMIT_EXCEEDED"
        assert "at capacity" in error["error"] and "limit=1" in error["detail"]
    metrics = httpx.get(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=10).text
    counted = re.search(
        r'^meshserve_inference_refused_total\{model="[^"]*example[^"]*"\} (\S+)$', metrics, re.M
    )
    assert counted and float(counted[1]) >= len(refused)
    assert re.search(r"^meshserve_inference_max_in_flight_per_model 1\.0$", metrics, re.M)


def test_kserve_callers_get_the_refusal_in_their_envelope(tight_mesh: Mesh) -> None:
    body = {"inputs": [{"name": "INPUT", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}
    replies = asyncio.run(hammer(tight_mesh.base_url, "/v2/models/example/infer", body, clients=16, each=10))
    refused = [r for r in replies if r.status_code == 429]
    assert {r.status_code for r in replies} <= {200, 429} and refused
    assert set(refused[0].json()) == {"error"} and "at capacity" in refused[0].json()["error"]


def test_a_generation_past_the_batch_slots_and_queue_is_refused_while_the_first_streams(
    tight_mesh: Mesh,
) -> None:
    chat = {"messages": [{"role": "user", "content": "Count to fifty."}], "temperature": 0}
    url = f"{tight_mesh.base_url}/v1/chat/completions"
    assert httpx.post(url, json={**chat, "max_tokens": 1}, timeout=300).status_code == 200  # loaded
    with httpx.stream("POST", url, json={**chat, "max_tokens": 200, "stream": True}, timeout=120) as first:
        assert first.status_code == 200
        lines = first.iter_lines()
        assert next(line for line in lines if line.startswith("data: "))  # it holds the only slot
        second = httpx.post(url, json={**chat, "max_tokens": 5}, timeout=60)
        assert second.status_code == 429, second.text
        assert second.headers["Retry-After"] == "1"
        error = second.json()["error"]
        assert error["type"] == "rate_limit_error" or error["code"] == "rate_limit_exceeded", error
        assert "at capacity" in error["message"]
        assert any(line == "data: [DONE]" for line in lines)  # the admitted stream runs to its end
    assert httpx.post(url, json={**chat, "max_tokens": 2}, timeout=60).status_code == 200  # slot free again
    metrics = httpx.get(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=10).text
    assert re.search(r"^meshserve_llm_max_sequences_per_model 1\.0$", metrics, re.M)
    assert re.search(r'^meshserve_llm_refused_total\{model="[^"]+"\} [1-9]', metrics, re.M)


def test_admission_counts_every_choice_and_gives_them_back() -> None:
    admission = SequenceAdmission(slots=2, queue=1)
    admission.admit("m", 2)
    with pytest.raises(RateLimitExceeded) as refused:
        admission.admit("m", 2)  # n=2 needs two places; one is left
    assert refused.value.retry_after == 1 and refused.value.details["limit"] == 3
    admission.admit("m", 1)
    admission.admit("other", 3)  # each model has its own
    admission.release("m", 2)
    admission.admit("m", 2)
    assert admission.under_way("m") == 3
