"""003's A/B tests on the real mesh: two registered copies of the bundled SmolLM2 as the arms of a
50/50 test of one model name. 200 requests from 20 callers split within binomial tolerance, each
caller on one arm; the per-arm figures match what was sent; feedback decides the winner by Welch's
t-test; promoting it changes what the model name serves."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.procs import Mesh
from tests.textgen.conftest import register_bundled_gguf

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def arms(llm_mesh: Mesh) -> tuple[str, str]:
    tag = uuid.uuid4().hex[:6]
    first, second = f"ab-a-{tag}", f"ab-b-{tag}"
    register_bundled_gguf(llm_mesh, first)
    register_bundled_gguf(llm_mesh, second)
    return first, second


def ask(mesh: Mesh, model: str, user: str) -> httpx.Response:
    return httpx.post(
        f"{mesh.base_url}/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2, "user": user},
        timeout=300,
    )


def test_a_50_50_test_splits_callers_stickily_and_counts_every_request(
    llm_mesh: Mesh, arms: tuple[str, str]
) -> None:
    from scipy.stats import binomtest

    first, second = arms
    created = httpx.post(
        f"{llm_mesh.base_url}/api/ai/advanced/ab-test/create",
        json={
            "test_name": "copy A vs copy B",
            "models": [first, second],
            "config": {"duration_days": 7, "traffic_split": "50/50", "success_metric": "user_satisfaction"},
        },
        timeout=60,
    )
    assert created.status_code == 201, created.text
    test = created.json()
    assert test["status"] == "running" and test["route_model"] == first
    assert [a["traffic_share"] for a in test["arms"]] == [0.5, 0.5]

    callers = [f"caller-{i:02d}" for i in range(20)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(
            pool.map(lambda n: (callers[n % 20], ask(llm_mesh, first, callers[n % 20])), range(200))
        )
    served: dict[str, set[str]] = defaultdict(set)
    per_arm: Counter[str] = Counter()
    tokens: Counter[str] = Counter()
    request_ids: dict[str, list[str]] = defaultdict(list)
    for caller, reply in replies:
        assert reply.status_code == 200, reply.text
        body = reply.json()
        served[caller].add(body["model"])
        per_arm[body["model"]] += 1
        tokens[body["model"]] += body["usage"]["completion_tokens"]
        request_ids[body["model"]].append(reply.headers["x-request-id"])
    assert all(len(models) == 1 for models in served.values()), served  # sticky
    on_second = sum(1 for models in served.values() if models == {second})
    assert binomtest(on_second, 20, 0.5).pvalue > 0.001, on_second  # the split is 50/50 over callers
    assert set(per_arm) <= {first, second} and sum(per_arm.values()) == 200

    # Feedback: the second copy's answers are liked, the first's are not.
    for model, score in ((first, 0.1), (second, 0.9)):
        for request_id in request_ids[model][:15]:
            sent = httpx.post(
                f"{llm_mesh.base_url}/api/ai/advanced/ab-test/feedback",
                json={"request_id": request_id, "score": score},
                timeout=30,
            )
            assert sent.status_code == 200 and sent.json()["test_id"] == test["test_id"], sent.text

    results = httpx.get(f"{llm_mesh.base_url}/api/ai/advanced/ab-test/{test['test_id']}", timeout=30).json()
    figures = {r["model"]: r for r in results["results"]}
    for model in (first, second):
        assert figures[model]["requests"] == per_arm[model]  # per-arm metrics match the requests sent
        assert figures[model]["errors"] == 0
        assert figures[model]["completion_tokens"] == tokens[model]
        assert figures[model]["callers"] == sum(1 for m in served.values() if m == {model})
        assert figures[model]["feedback"]["count"] == min(15, per_arm[model])
        assert 0 < figures[model]["latency_ms"]["p50"] <= figures[model]["latency_ms"]["p99"]
    [comparison] = results["comparisons"]
    if min(per_arm[first], per_arm[second]) >= 2:
        assert comparison["test"] == "ttest_ind (Welch)"
        assert comparison["significant"] and comparison["better"] == "B"

    promoted = httpx.post(
        f"{llm_mesh.base_url}/api/ai/advanced/ab-test/{test['test_id']}/promote", json={}, timeout=30
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["status"] == "promoted" and promoted.json()["winner"] == "B"
    for caller in callers[:6]:  # everyone now gets the winner under the first model's name
        reply = ask(llm_mesh, first, caller)
        assert reply.status_code == 200 and reply.json()["model"] == second, reply.text
    stopped = httpx.post(f"{llm_mesh.base_url}/api/ai/advanced/ab-test/{test['test_id']}/stop", timeout=30)
    assert stopped.status_code == 409  # a promoted test is over
    # Smart routing lists the winner under its own name only: the first name now runs the second model.
    smart = httpx.post(
        f"{llm_mesh.base_url}/api/ai/advanced/inference/smart",
        json={"prompt": "Hi", "priority": "performance", "parameters": {"max_tokens": 2, "temperature": 0}},
        timeout=300,
    )
    assert smart.status_code == 200, smart.text
    listed = [c["model_id"] for c in smart.json()["routing"]["candidates"]]
    assert second in listed and first not in listed
    assert smart.json()["metadata"]["model"] == smart.json()["routing"]["selected_model"]


def test_bad_ab_tests_get_400_naming_the_field(llm_mesh: Mesh) -> None:
    def create(body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{llm_mesh.base_url}/api/ai/advanced/ab-test/create", json=body, timeout=30)

    one = create({"test_name": "x", "models": ["only-one"]})
    assert one.status_code == 400 and "models" in one.text
    split = create({"test_name": "x", "models": ["a", "b"], "config": {"traffic_split": "50/30/20"}})
    assert split.status_code == 400 and split.json()["error"]["details"]["field"] == "config.traffic_split"
    metric = create({"test_name": "x", "models": ["a", "b"], "config": {"success_metric": "vibes"}})
    assert metric.status_code == 400 and metric.json()["error"]["details"]["field"] == "config.success_metric"
    missing = httpx.get(f"{llm_mesh.base_url}/api/ai/advanced/ab-test/exp_nope", timeout=30)
    assert missing.status_code == 404
