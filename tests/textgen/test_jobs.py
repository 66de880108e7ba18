"""Document 003's job group through the gateway on the session mesh: batch/create, job/submit,
job status, webhooks (signed, retried) and completion callbacks, received by a real HTTP server
in this test process."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.procs import Mesh
from tests.webhook_receiver import Received, Receiver

pytestmark = pytest.mark.integration

SECRET = "s3cret-for-tests"
CALLBACK_SECRET = "callback-secret"
#: The batch test's longest item: enough tokens that its job is still running when first looked at.
LONG_TOKENS = 64


def signed_by(secret: str, post: Received) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), post.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(post.headers.get("x-webhook-signature", ""), expected)


def assert_003_error(reply: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) >= {"error", "request_id", "timestamp"}, body
    assert set(body["error"]) >= {"code", "message", "details", "suggestion"}
    assert body["error"]["code"] == code, body
    return body["error"]


BAD_BODIES: list[tuple[str, str, dict[str, Any], str]] = [
    ("batch without requests", "/api/ai/advanced/batch/create", {"config": {}}, "requests"),
    ("batch with no requests", "/api/ai/advanced/batch/create", {"requests": []}, "requests"),
    (
        "batch with bad priority",
        "/api/ai/advanced/batch/create",
        {"requests": [{"prompt": "x"}], "config": {"priority": "urgent"}},
        "config.priority",
    ),
    (
        "batch with ftp callback",
        "/api/ai/advanced/batch/create",
        {"requests": [{"prompt": "x"}], "config": {"callback_url": "ftp://example.com/x"}},
        "config.callback_url",
    ),
    (
        "batch with unknown retry policy",
        "/api/ai/advanced/batch/create",
        {"requests": [{"prompt": "x"}], "config": {"retry_policy": "forever"}},
        "config.retry_policy",
    ),
    (
        "batch with temperature 9",
        "/api/ai/advanced/batch/create",
        {"requests": [{"prompt": "x", "parameters": {"temperature": 9}}]},
        "requests[0].temperature",
    ),
    (
        "unsupported job type",
        "/api/ai/advanced/job/submit",
        {"job_type": "video_rendering", "input_data": {"prompt": "x"}},
        "job_type",
    ),
    (  # 003's own example names files; the mesh takes the documents' text
        "documents given as file names",
        "/api/ai/advanced/job/submit",
        {
            "job_type": "document_analysis",
            "input_data": {"documents": ["doc1.pdf", "doc2.pdf"], "analysis_type": "sentiment"},
            "config": {
                "priority": "normal",
                "callback_url": "https://your-app.com/callback",
                "timeout": 3600,
            },
        },
        "input_data.documents[0]",
    ),
    (
        "unknown analysis",
        "/api/ai/advanced/job/submit",
        {
            "job_type": "document_analysis",
            "input_data": {"documents": ["Some text."], "analysis_type": "vibes"},
        },
        "input_data.analysis_type",
    ),
    (
        "text_generation without prompts",
        "/api/ai/advanced/job/submit",
        {"job_type": "text_generation", "input_data": {"model_id": "default"}},
        "input_data",
    ),
    (
        "job without prompt",
        "/api/ai/advanced/job/submit",
        {"job_type": "batch_inference", "input_data": {"requests": [{"model_id": "default"}]}},
        "input_data.requests[0].prompt",
    ),
    (
        "job with negative timeout",
        "/api/ai/advanced/job/submit",
        {"job_type": "x", "config": {"timeout": -1}},
        "config.timeout",
    ),
    (
        "webhook with ftp url",
        "/api/ai/webhooks/register",
        {"url": "ftp://x.example/h", "events": ["batch.finished"]},
        "url",
    ),
    (
        "webhook with unknown event",
        "/api/ai/webhooks/register",
        {"url": "http://x.example/h", "events": ["nope"]},
        "events",
    ),
    (
        "webhook without events",
        "/api/ai/webhooks/register",
        {"url": "http://x.example/h", "events": []},
        "events",
    ),
    (
        "webhook with huge retry count",
        "/api/ai/webhooks/register",
        {"url": "http://x.example/h", "events": ["job.failed"], "config": {"retry_count": 1000}},
        "config.retry_count",
    ),
]


@pytest.mark.parametrize(("case", "path", "body", "field"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
def test_bad_bodies_get_400_in_the_003_envelope(
    mesh: Mesh, case: str, path: str, body: dict[str, Any], field: str
) -> None:
    error = assert_003_error(httpx.post(mesh.base_url + path, json=body, timeout=30), 400, "INVALID_INPUT")
    assert error["details"].get("field", "").startswith(field), error
    if case == "unsupported job type":
        supported = set(error["details"]["supported"])
        assert {"text_generation", "batch_inference", "document_analysis"} <= supported
    if case == "text_generation without prompts":
        assert "input_data.prompts" in error["details"]["needs"]
    if case == "webhook with unknown event":
        assert "batch.finished" in error["details"]["supported"]


def test_unknown_job_is_404_in_the_003_envelope(mesh: Mesh) -> None:
    reply = httpx.get(f"{mesh.base_url}/api/ai/advanced/job/job_does_not_exist/status", timeout=30)
    error = assert_003_error(reply, 404, "NOT_FOUND")
    assert error["details"]["job_id"] == "job_does_not_exist"


def test_webhook_registration_generates_a_secret_and_is_listed(mesh: Mesh) -> None:
    reply = httpx.post(
        f"{mesh.base_url}/api/ai/webhooks/register",
        json={
            "url": "https://hooks.example/in",
            "events": ["model.updated"],
            "config": {"retry_count": 1, "timeout": 5},
        },
        timeout=30,
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert len(body["secret"]) >= 32 and body["config"] == {"retry_count": 1, "timeout": 5.0}
    listed = httpx.get(f"{mesh.base_url}/api/ai/webhooks", timeout=30).json()["webhooks"]
    assert body["webhook_id"] in [h["webhook_id"] for h in listed]
    assert all("secret" not in h for h in listed)
    assert (
        httpx.delete(f"{mesh.base_url}/api/ai/webhooks/{body['webhook_id']}", timeout=30).status_code == 200
    )
    gone = httpx.delete(f"{mesh.base_url}/api/ai/webhooks/{body['webhook_id']}", timeout=30)
    assert_003_error(gone, 404, "NOT_FOUND")


@pytest.mark.slow
def test_batch_job_runs_and_notifies(llm_mesh: Mesh, receiver: Receiver) -> None:
    base = llm_mesh.base_url
    receiver.fail_first.add("/flaky")
    hooks = [
        httpx.post(
            f"{base}/api/ai/webhooks/register",
            json={
                "url": f"{receiver.url}/hook",
                "events": ["batch.finished", "job.completed", "inference.completed"],
                "secret": SECRET,
                "config": {"retry_count": 2, "timeout": 10},
            },
            timeout=30,
        ),
        httpx.post(
            f"{base}/api/ai/webhooks/register",
            json={
                "url": f"{receiver.url}/flaky",
                "events": ["batch.finished"],
                "secret": SECRET,
                "config": {"retry_count": 2},
            },
            timeout=30,
        ),
    ]
    assert [h.status_code for h in hooks] == [201, 201], [h.text for h in hooks]
    assert "secret" not in hooks[0].json()  # given, so not echoed
    params = {"max_tokens": 3, "temperature": 0}
    long_params = {"max_tokens": LONG_TOKENS, "temperature": 0}
    try:
        reply = httpx.post(
            f"{base}/api/ai/advanced/batch/create",
            json={
                "requests": [
                    {"model_id": "default", "prompt": "Say hi", "parameters": params},
                    {"model_id": "no-such-model", "prompt": "Say hi", "parameters": params},
                    # A completion that goes on (about a second): the job is still in progress at the first look.
                    {"prompt": "One, two, three, four, five, six, seven,", "parameters": long_params},
                ],
                "config": {
                    "batch_size": 2,
                    "retry_policy": "exponential_backoff",
                    "callback_url": f"{receiver.url}/callback",
                    "callback_secret": CALLBACK_SECRET,
                    "priority": "high",
                },
            },
            timeout=30,
        )
        assert reply.status_code == 202, reply.text
        accepted = reply.json()
        job_id = accepted["batch_id"]
        assert accepted["job_id"] == job_id and accepted["total"] == 3
        assert accepted["status_url"] == f"/api/ai/advanced/job/{job_id}/status"

        seen: list[str] = []
        deadline = time.monotonic() + 120
        while True:
            status = httpx.get(f"{base}{accepted['status_url']}", timeout=30)
            assert status.status_code == 200, status.text
            body = status.json()
            seen.append(body["status"])
            if body["status"] in ("completed", "failed", "cancelled"):
                break
            assert time.monotonic() < deadline, body
            time.sleep(0.1)
        assert seen[0] in ("queued", "running"), seen
        # The lifecycle only moves forward, and the job's timestamps say the same.
        assert body["status"] == "completed", body
        lifecycle = {"queued": 0, "running": 1, "completed": 2}
        assert [lifecycle[s] for s in seen] == sorted(lifecycle[s] for s in seen), seen
        moments = [datetime.fromisoformat(body[k]) for k in ("created_at", "started_at", "completed_at")]
        assert moments == sorted(moments), body
        assert body["progress"] == {
            "total": 3,
            "completed": 3,
            "succeeded": 2,
            "failed": 1,
            "cancelled": 0,
            "percent": 100.0,
        }
        good, bad, third = body["results"]
        for item, most in ((good, 3), (third, LONG_TOKENS)):
            assert item["status"] == "completed" and item["success"] and isinstance(item["response"], str), (
                item
            )
            assert 1 <= item["metadata"]["completion_tokens"] <= most
            assert item["error"] is None and item["attempts"] == 1
        assert bad["status"] == "failed" and bad["response"] is None
        assert bad["error"]["code"] == "MODEL_NOT_FOUND" and bad["attempts"] == 1
        assert body["started_at"] and body["completed_at"] and body["created_at"]

        finished = receiver.wait_for(
            lambda r: r.path == "/hook" and r.headers.get("x-webhook-event") == "batch.finished"
        )
        assert signed_by(SECRET, finished[0]), finished[0].headers
        payload = finished[0].json
        assert payload["event"] == "batch.finished" and payload["data"]["job_id"] == job_id
        assert payload["data"]["progress"]["succeeded"] == 2
        assert receiver.wait_for(
            lambda r: r.path == "/hook" and r.headers.get("x-webhook-event") == "job.completed"
        )
        per_item = receiver.wait_for(
            lambda r: (
                r.path == "/hook"
                and r.headers.get("x-webhook-event") == "inference.completed"
                and r.json["data"].get("job_id") == job_id
            )
        )
        assert all(signed_by(SECRET, p) for p in per_item)

        callback = receiver.wait_for(lambda r: r.path == "/callback")
        assert signed_by(CALLBACK_SECRET, callback[0])
        assert (
            callback[0].json["data"]["status"] == "completed" and callback[0].json["data"]["job_id"] == job_id
        )

        # The flaky endpoint answered 500 once: the same event came again and then succeeded.
        flaky = receiver.wait_for(
            lambda r: r.path == "/flaky" and len([x for x in receiver.received if x.path == "/flaky"]) >= 2
        )
        assert len({p.headers["x-webhook-id"] for p in flaky}) == 1 and len(flaky) == 2
        assert all(signed_by(SECRET, p) for p in flaky)

        deadline = time.monotonic() + 30
        while not (cb := httpx.get(f"{base}{accepted['status_url']}", timeout=30).json()["callback"])[
            "delivered"
        ]:
            assert time.monotonic() < deadline, cb
            time.sleep(0.1)
        assert cb["last_status_code"] == 200 and cb["url"] == f"{receiver.url}/callback"

        # A plain 003 inference announces itself too.
        infer = httpx.post(
            f"{base}/api/ai/inference", json={"prompt": "Hi", "parameters": {"max_tokens": 2}}, timeout=120
        )
        assert infer.status_code == 200, infer.text
        direct = receiver.wait_for(
            lambda r: (
                r.headers.get("x-webhook-event") == "inference.completed"
                and r.json["data"]["source"] == "generate"
            )
        )
        assert signed_by(SECRET, direct[0]) and direct[0].json["data"]["response"] == infer.json()["response"]
    finally:
        for hook in hooks:
            if hook.status_code == 201:
                httpx.delete(f"{base}/api/ai/webhooks/{hook.json()['webhook_id']}", timeout=30)


@pytest.mark.slow
def test_text_generation_job_and_unknown_model_job_fail_cleanly(llm_mesh: Mesh) -> None:
    base = llm_mesh.base_url
    submitted = {
        name: httpx.post(
            f"{base}/api/ai/advanced/job/submit",
            json={
                "job_type": "text_generation",
                "input_data": {
                    "model_id": model,
                    "prompt": "What is AI?",
                    "parameters": {"max_tokens": 4, "temperature": 0},
                },
                "config": {
                    "priority": "normal",
                    "timeout": 300,
                    "retry_policy": {"strategy": "fixed", "max_retries": 1},
                },
            },
            timeout=30,
        )
        for name, model in (("good", "default"), ("bad", "no-such-model"))
    }
    assert {n: r.status_code for n, r in submitted.items()} == {"good": 202, "bad": 202}
    final: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 120
    while len(final) < 2:
        for name, reply in submitted.items():
            body = httpx.get(f"{base}{reply.json()['status_url']}", timeout=30).json()
            if body["status"] in ("completed", "failed"):
                final[name] = body
        assert time.monotonic() < deadline, final
        time.sleep(0.1)
    good = final["good"]["results"][0]
    assert final["good"]["status"] == "completed" and isinstance(good["response"], str), final["good"]
    assert 1 <= good["metadata"]["completion_tokens"] <= 4 and good["attempts"] == 1
    assert final["good"]["config"]["retry_policy"]["max_retries"] == 1
    assert final["bad"]["status"] == "failed"
    assert final["bad"]["error"]["code"] == "MODEL_NOT_FOUND"  # never retried: attempts stay 1
    assert final["bad"]["results"][0]["attempts"] == 1
    again = httpx.post(f"{base}/api/ai/advanced/job/{final['good']['job_id']}/cancel", timeout=30)
    assert_003_error(again, 409, "FAILED_PRECONDITION")


def test_job_service_is_served_by_the_inference_process(mesh: Mesh) -> None:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from meshserve.v1 import jobs_pb2, jobs_pb2_grpc
    from services.common.errors import MeshError

    with grpc.insecure_channel(mesh.address("inference")) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="meshserve.v1.JobService"), timeout=10
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError) as info:
            jobs_pb2_grpc.JobServiceStub(channel).GetJob(
                jobs_pb2.GetJobRequest(job_id="job_nope"), timeout=10
            )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert MeshError.from_rpc_error(info.value).details["job_id"] == "job_nope"


@pytest.mark.slow
def test_model_load_announces_model_updated(mesh: Mesh, receiver: Receiver) -> None:
    base = mesh.base_url
    hook = httpx.post(
        f"{base}/api/ai/webhooks/register",
        json={"url": f"{receiver.url}/models", "events": ["model.updated"], "secret": SECRET},
        timeout=30,
    )
    assert hook.status_code == 201, hook.text
    try:
        load = httpx.post(f"{base}/api/v1/models/example/load", json={"backend": "cpu"}, timeout=180)
        assert load.status_code == 200, load.text
        posts = receiver.wait_for(lambda r: r.path == "/models")
        assert signed_by(SECRET, posts[0]) and posts[0].headers["x-webhook-event"] == "model.updated"
        data = posts[0].json["data"]
        assert data["model_id"] == "example" and data["action"] == "loaded" and data["workers"], data
    finally:
        httpx.delete(f"{base}/api/ai/webhooks/{hook.json()['webhook_id']}", timeout=30)


def finished_job(base: str, job_id: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = httpx.get(f"{base}/api/ai/advanced/job/{job_id}/status", timeout=30).json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return dict(body)
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


@pytest.mark.slow
def test_text_generation_prompts_and_document_analysis_jobs_run(llm_mesh: Mesh) -> None:
    import json

    base = llm_mesh.base_url
    prompts = httpx.post(
        f"{base}/api/ai/advanced/job/submit",
        json={
            "job_type": "text_generation",
            "input_data": {
                "prompts": ["Say hi.", "Name a fruit."],
                "parameters": {"max_tokens": 4, "temperature": 0},
            },
        },
        timeout=30,
    )
    assert prompts.status_code == 202, prompts.text
    done = finished_job(base, prompts.json()["job_id"])
    assert done["status"] == "completed" and len(done["results"]) == 2
    assert all(r["success"] and r["response"] for r in done["results"])

    documents = [
        "I love this phone. The battery lasts for days and the camera is wonderful.",
        {
            "name": "review-2",
            "text": "Terrible service. The package arrived broken and nobody answered my emails.",
        },
    ]
    outputs = {}
    for analysis, extra in (
        ("sentiment", {}),
        ("keywords", {}),
        ("classification", {"labels": ["praise", "complaint"]}),
        ("summary", {}),
    ):
        reply = httpx.post(
            f"{base}/api/ai/advanced/job/submit",
            json={
                "job_type": "document_analysis",
                "input_data": {"documents": documents, "analysis_type": analysis, **extra},
            },
            timeout=30,
        )
        assert reply.status_code == 202, reply.text
        outputs[analysis] = finished_job(base, reply.json()["job_id"])
        assert outputs[analysis]["status"] == "completed", outputs[analysis]
        assert len(outputs[analysis]["results"]) == 2
    for result in outputs["sentiment"]["results"]:  # the grammar holds the model to the schema
        assert json.loads(result["response"])["sentiment"] in ("positive", "negative", "neutral")
    for result in outputs["classification"]["results"]:
        assert json.loads(result["response"])["label"] in ("praise", "complaint")
    for result in outputs["keywords"]["results"]:
        keywords = json.loads(result["response"])["keywords"]
        assert isinstance(keywords, list) and len(keywords) <= 8 and all(isinstance(k, str) for k in keywords)
    assert all(r["response"].strip() for r in outputs["summary"]["results"])
