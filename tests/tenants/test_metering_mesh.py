"""Tenants on the whole mesh, auth on, the bundled language model: metering that is exact when a
third of 32 concurrent streams are abandoned, a monthly token quota that counts down and refuses,
and a budget whose crossings arrive as signed webhooks and Socket.IO events, then refuse."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
import socketio

from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.common.internal_auth import INTERNAL_TOKEN_HEADER
from tests.procs import Mesh, run_mesh
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.slow

ADMIN, PASSWORD = "root", "root-password-1"
INTERNAL = secrets.token_urlsafe(24)
CHAT = "/v1/chat/completions"


@pytest.fixture(scope="module")
def tenant_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    """Every service and the gateway, auth on, the language model loaded."""
    env = {
        "ENABLE_AUTH": "true",
        "MESHSERVE_JWT_SECRET": secrets.token_urlsafe(48),
        "MESHSERVE_INTERNAL_TOKEN": INTERNAL,
        "MESHSERVE_AUTH_ADMIN_USERNAME": ADMIN,
        "MESHSERVE_AUTH_ADMIN_PASSWORD": PASSWORD,
        "MESHSERVE_GATEWAY_PLAN_REFRESH_SECONDS": "0.5",
    }
    with run_mesh(tmp_path_factory.mktemp("tenant-mesh"), env, preload_llm=True, rate_limits=True) as mesh:
        yield mesh


def login(http: httpx.Client, username: str, password: str) -> dict[str, str]:
    reply = http.post("/auth/login", json={"username": username, "password": password})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def new_tenant(http: httpx.Client) -> tuple[str, dict[str, str]]:
    """A fresh user on the free plan: its id and its credentials."""
    name = f"t{secrets.token_hex(4)}"
    reply = http.post(
        "/auth/register", json={"username": name, "email": f"{name}@example.com", "password": "pass-word-1"}
    )
    assert reply.status_code == 201, reply.text
    auth = login(http, name, "pass-word-1")
    profile = http.get("/auth/profile", headers=auth).json()
    return str(profile.get("user_id") or profile.get("id") or profile["user"]["id"]), auth


def set_free_plan(http: httpx.Client, admin: dict[str, str], **values: Any) -> None:
    plan = {
        "requests_per_hour": 100,
        "monthly_tokens": 1000,
        "price_per_1k_tokens": 0.002,
        "priority": 0,
        "monthly_fee_usd": 0.0,
        **values,
    }
    reply = http.put("/api/analytics/plans/free", json=plan, headers=admin)
    assert reply.status_code == 200, reply.text


def tokens_generated(mesh: Mesh) -> int:
    """What the engines on every worker generated, by their own count."""
    with grpc.insecure_channel(mesh.address("inference")) as channel:
        stub = ipb_grpc.InferenceServiceStub(channel)
        reply = stub.GetGenerationStats(
            ipb.GetGenerationStatsRequest(), timeout=10, metadata=((INTERNAL_TOKEN_HEADER, INTERNAL),)
        )
    return sum(m.tokens_generated for m in reply.models)


def usage_rows(http: httpx.Client, auth: dict[str, str], **params: str) -> list[dict[str, Any]]:
    reply = http.get("/api/analytics/usage", params=params, headers=auth)
    assert reply.status_code == 200, reply.text
    return list(reply.json()["usage"])


def usage_records(mesh: Mesh) -> dict[str, tuple[str, int, int, str]]:
    """Every usage record in the auth service's store: tenant, prompt and completion tokens, outcome."""
    with sqlite3.connect(mesh.data_dir / "auth.db") as db:
        rows = db.execute("SELECT request_id, tenant, prompt_tokens, completion_tokens, outcome FROM usage")
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


async def stream_chat(base_url: str, auth: dict[str, str], abandon_after: int | None) -> dict[str, Any]:
    """One streamed chat completion; ``abandon_after`` pieces of text, then the client leaves."""
    body = {
        "messages": [{"role": "user", "content": "Tell a story about a lighthouse keeper."}],
        "stream": True,
        "max_tokens": 40,
        "temperature": 0.9,  # sampled, not seeded: the response cache stays out of it
        "stream_options": {"include_usage": True},
    }
    pieces, usage, completion_id = 0, None, ""
    async with httpx.AsyncClient(base_url=base_url, timeout=300) as http:
        async with http.stream("POST", CHAT, json=body, headers=auth) as reply:
            assert reply.status_code == 200, await reply.aread()
            async for line in reply.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                completion_id = chunk["id"]
                if chunk.get("usage"):
                    usage = chunk["usage"]
                if any(c["delta"].get("content") for c in chunk.get("choices", [])):
                    pieces += 1
                    if abandon_after is not None and pieces >= abandon_after:
                        break
    return {"pieces": pieces, "usage": usage, "id": completion_id.removeprefix("chatcmpl-")}


def test_metering_is_exact_with_abandoned_streams(tenant_mesh: Mesh) -> None:
    with httpx.Client(base_url=tenant_mesh.base_url, timeout=120) as http:
        admin = login(http, ADMIN, PASSWORD)
        set_free_plan(http, admin, monthly_tokens=0)  # no quota in the way of counting
        tenants = [new_tenant(http) for _ in range(4)]
    before = tokens_generated(tenant_mesh)

    async def run_all() -> list[dict[str, Any]]:
        calls = [
            stream_chat(tenant_mesh.base_url, tenants[i % 4][1], 3 if i % 3 == 0 else None) for i in range(32)
        ]
        return await asyncio.gather(*calls)

    results = asyncio.run(run_all())
    abandoned = [r for i, r in enumerate(results) if i % 3 == 0]
    assert len(abandoned) == 11 and all(r["usage"] is None for r in abandoned)
    generated = tokens_generated(tenant_mesh) - before

    with httpx.Client(base_url=tenant_mesh.base_url, timeout=120) as http:
        metered: dict[str, dict[str, Any]] = {}
        for _ in range(50):  # records are sent in batches, off the request path
            rows = usage_rows(http, admin)
            metered = {t: next((r for r in rows if r["tenant"] == t), {}) for t, _ in tenants}
            if all(m.get("requests") == 8 for m in metered.values()):
                break
            asyncio.run(asyncio.sleep(0.2))
        # Each request recorded once; every token the engine generated billed to its tenant.
        assert [m["requests"] for m in metered.values()] == [8, 8, 8, 8]
        assert sum(m["completion_tokens"] for m in metered.values()) == generated
        # Request by request (a completion's id is the id it is metered under; read from the auth
        # service's own store): a finished stream as its usage said, an abandoned one at least what
        # its client received, each billed to the tenant that asked.
        records = usage_records(tenant_mesh)
        for i, result in enumerate(results):
            tenant, prompt, completion, outcome = records[result["id"]]
            assert tenant == tenants[i % 4][0]
            if result["usage"] is not None:
                assert (prompt, completion, outcome) == (
                    result["usage"]["prompt_tokens"],
                    result["usage"]["completion_tokens"],
                    "ok",
                )
            else:
                assert completion >= result["pieces"] and outcome == "cancelled"
        # A user sees only their own usage.
        first, first_auth = tenants[0]
        assert {r["tenant"] for r in usage_rows(http, first_auth)} == {first}
        reply = http.get("/api/analytics/usage", params={"tenant": tenants[1][0]}, headers=first_auth)
        assert reply.status_code == 403 and reply.json()["error"]["code"] == "PERMISSION_DENIED"


def chat(http: httpx.Client, auth: dict[str, str], path: str = CHAT) -> httpx.Response:
    if path == CHAT:
        body: dict[str, Any] = {"messages": [{"role": "user", "content": "Name a colour."}], "max_tokens": 24}
    else:
        body = {"text": "Name a colour.", "max_tokens": 24}
    return http.post(path, json={**body, "temperature": 0.9}, headers=auth)


def test_quota_counts_down_and_refuses_at_the_crossing(tenant_mesh: Mesh) -> None:
    with httpx.Client(base_url=tenant_mesh.base_url, timeout=120) as http:
        admin = login(http, ADMIN, PASSWORD)
        set_free_plan(http, admin, monthly_tokens=1000)
        _, auth = new_tenant(http)
        remaining, spent = 1000, []
        for _ in range(60):
            reply = chat(http, auth)
            if reply.status_code == 429:
                break
            assert reply.status_code == 200, reply.text
            assert reply.headers["x-quota-tokens-limit"] == "1000"
            assert int(reply.headers["x-quota-tokens-remaining"]) == max(0, remaining)
            used = reply.json()["usage"]["total_tokens"]
            remaining -= used
            spent.append(used)
        else:
            pytest.fail("the quota never refused a request")
        # Refused only once the quota was used, by the request after the one that crossed it.
        assert sum(spent) >= 1000 > sum(spent[:-1])
        error = reply.json()["error"]
        assert error["reason"] == "QUOTA_EXCEEDED" and error["type"] == "insufficient_quota"
        assert error["details"]["quota"] == 1000 and error["details"]["used"] == sum(spent)
        assert int(reply.headers["retry-after"]) > 0 and error["details"]["reset"] > 0
        # Every surface refuses it, each in its own envelope.
        refused = chat(http, auth, "/api/v1/infer")
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "QUOTA_EXCEEDED"
        stream = http.post(
            CHAT, json={"messages": [{"role": "user", "content": "Hi"}], "stream": True}, headers=auth
        )
        assert stream.status_code == 429 and stream.json()["error"]["reason"] == "QUOTA_EXCEEDED"


def signed(received: Any, secret: str) -> bool:
    digest = hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    return received.headers.get("x-webhook-signature") == f"sha256={digest}"


def test_budget_alerts_arrive_once_each_and_refuse_at_the_limit(tenant_mesh: Mesh) -> None:
    receiver = Receiver()
    secret = "budget-secret"
    try:
        with httpx.Client(base_url=tenant_mesh.base_url, timeout=120) as http:
            admin = login(http, ADMIN, PASSWORD)
            # $10 per 1,000 tokens: a request of about 60 tokens costs about $0.60.
            set_free_plan(http, admin, monthly_tokens=0, price_per_1k_tokens=10.0)
            tenant, auth = new_tenant(http)
            reply = http.post(
                "/api/ai/webhooks/register",
                json={
                    "url": f"{receiver.url}/budget",
                    "events": ["budget.threshold_crossed"],
                    "secret": secret,
                },
                headers=admin,
            )
            assert reply.status_code == 201, reply.text
            reply = http.put(
                "/api/analytics/budget", json={"limit_usd": 2.0, "alert_thresholds": [50, 100]}, headers=auth
            )
            assert reply.status_code == 200, reply.text
            token = auth["Authorization"].split()[1]
            events, refused = asyncio.run(_spend_until_refused(tenant_mesh, http, auth, token))
        assert refused.json()["error"]["reason"] == "BUDGET_EXCEEDED"
        assert refused.json()["error"]["details"]["limit_usd"] == 2.0
        hooks = receiver.wait_for(
            lambda r: r.path == "/budget" and r.json["data"]["threshold_percent"] == 100
        )
        hooks = [r for r in receiver.received if r.path == "/budget"]
        assert sorted(r.json["data"]["threshold_percent"] for r in hooks) == [50, 100]
        assert all(signed(r, secret) and r.json["data"]["tenant"] == tenant for r in hooks)
        assert sorted(e["threshold_percent"] for e in events) == [50, 100]
        assert all(e["tenant"] == tenant for e in events)
    finally:
        receiver.close()


async def _spend_until_refused(
    mesh: Mesh, http: httpx.Client, auth: dict[str, str], token: str
) -> tuple[list[dict[str, Any]], httpx.Response]:
    client = socketio.AsyncClient(reconnection=False)
    events: list[dict[str, Any]] = []
    client.on("budget_alert", events.append)
    await client.connect(mesh.base_url, socketio_path="socket.io", auth={"token": token}, wait_timeout=10)
    try:
        ack = await client.call("subscribe", {"channels": ["budget_events"]}, timeout=10)
        assert ack["subscribed"] == ["budget_events"]
        await asyncio.sleep(2.5)  # the relay's first look sets where it starts from
        for _ in range(20):
            reply = await asyncio.to_thread(chat, http, auth)
            if reply.status_code == 429:
                break
            assert reply.status_code == 200, reply.text
        else:
            pytest.fail("the budget never refused a request")
        for _ in range(50):
            if len(events) >= 2:
                break
            await asyncio.sleep(0.2)
        return events, reply
    finally:
        await client.disconnect()


def test_job_items_are_billed_to_their_submitter(tenant_mesh: Mesh) -> None:
    with httpx.Client(base_url=tenant_mesh.base_url, timeout=120) as http:
        admin = login(http, ADMIN, PASSWORD)
        set_free_plan(http, admin, monthly_tokens=0)
        tenant, auth = new_tenant(http)
        prompts = [
            {"model_id": "default", "prompt": p, "parameters": {"max_tokens": 8}} for p in ("Hi", "Yo")
        ]
        reply = http.post("/api/ai/advanced/batch/create", json={"requests": prompts}, headers=auth)
        assert reply.status_code == 202, reply.text
        status_url = reply.json()["status_url"]
        for _ in range(600):
            body = http.get(status_url, headers=auth).json()
            if body["status"] in ("completed", "failed", "cancelled"):
                break
            asyncio.run(asyncio.sleep(0.2))
        assert body["status"] == "completed", body
        for _ in range(50):
            rows = usage_rows(http, auth)
            if rows and rows[0]["requests"] == 2:
                break
            asyncio.run(asyncio.sleep(0.2))
        # Both items ran on a job runner, as their submitter: billed to it, and to no one else.
        assert [(r["tenant"], r["requests"]) for r in rows] == [(tenant, 2)]
        assert rows[0]["completion_tokens"] > 0


def test_plan_edits_reach_the_gateways_rate_limits(tenant_mesh: Mesh) -> None:
    with httpx.Client(base_url=tenant_mesh.base_url, timeout=120) as http:
        admin = login(http, ADMIN, PASSWORD)
        _, auth = new_tenant(http)
        assert http.get("/v1/models", headers=auth).headers["x-ratelimit-limit"] == "100"
        set_free_plan(http, admin, requests_per_hour=7)
        try:
            for _ in range(50):
                limit = http.get("/v1/models", headers=auth).headers["x-ratelimit-limit"]
                if limit == "7":
                    break
                asyncio.run(asyncio.sleep(0.2))
            assert limit == "7"
        finally:
            set_free_plan(http, admin, requests_per_hour=100)


def test_predictions_and_speech_are_metered_in_their_own_units(tenant_mesh: Mesh) -> None:
    with httpx.Client(base_url=tenant_mesh.base_url, timeout=120) as http:
        tenant, auth = new_tenant(http)
        body = {"inputs": [{"name": "INPUT", "shape": [2, 5], "datatype": "FP32", "data": list(range(10))}]}
        for _ in range(2):
            reply = http.post("/v2/models/example/infer", json=body, headers=auth)
            assert reply.status_code == 200, reply.text
        text = "Meters count what was asked for."
        speech = {"model": "tts-1", "voice": "alloy", "input": text, "response_format": "wav"}
        reply = http.post("/v1/audio/speech", json=speech, headers=auth)
        assert reply.status_code == 200, reply.text
        for _ in range(50):
            rows = {r["model"]: r for r in usage_rows(http, auth)}
            if rows.get("example", {}).get("requests") == 2 and rows.get("tts-1"):
                break
            asyncio.run(asyncio.sleep(0.2))
        assert (rows["example"]["requests"], rows["example"]["units"]) == (2, 20.0)  # 10 elements each
        assert (rows["tts-1"]["requests"], rows["tts-1"]["units"]) == (1, float(len(text)))
        assert {r["tenant"] for r in rows.values()} == {tenant}
