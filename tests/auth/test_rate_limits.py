"""Plans enforced at the gateway: exact budgets, counting-down headers, 429 + Retry-After in every
surface's envelope, and one budget shared by two gateway processes through Redis."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.auth.conftest import Stack
from tests.auth.harness import gateway_process
from tests.auth.helpers import READ_PROBES, bearer, new_key, new_user, reason_of
from tests.servers import redis_server

FREE_LIMIT = 100


async def test_free_key_gets_exactly_its_limit_then_429_everywhere(limited: Stack) -> None:
    async with limited.client() as http:
        _, token, _ = await new_user(http, "free")
        created = await new_key(http, token, role="read", plan="free")
        assert created["key"]["plan"] == "free"
        headers = bearer(created["api_key"])
        seen = []
        for _ in range(FREE_LIMIT):
            reply = await http.get("/v1/auth/token", headers=headers)
            assert reply.status_code == 200, reply.text
            assert reply.headers["x-ratelimit-limit"] == str(FREE_LIMIT)
            seen.append(int(reply.headers["x-ratelimit-remaining"]))
            reset = int(reply.headers["x-ratelimit-reset"])
            assert time.time() < reset <= time.time() + 3600
        assert seen == list(range(FREE_LIMIT - 1, -1, -1))
        for surface, (method, path) in READ_PROBES.items():
            reply = await http.request(method, path, headers=headers)
            if surface == "004":  # 004 §9.1's endpoints count against their own rows, not the plan
                assert reply.status_code != 429 and reply.headers["x-ratelimit-limit"] == "6000"
                continue
            assert reply.status_code == 429, (surface, reply.text)
            retry_after = int(reply.headers["retry-after"])
            assert 0 < retry_after <= 3600
            assert reply.headers["x-ratelimit-remaining"] == "0"
            if surface != "kserve":
                assert reason_of(surface, reply.json()) == "RATE_LIMIT_EXCEEDED"
        # Another caller's budget is untouched.
        other = await new_key(http, token, role="read", plan="free")
        reply = await http.get("/v1/auth/token", headers=bearer(other["api_key"]))
        assert reply.status_code == 200 and reply.headers["x-ratelimit-remaining"] == str(FREE_LIMIT - 1)


async def test_pro_and_enterprise_plans(limited: Stack, admin_token: str) -> None:
    async with limited.client() as http:
        pro = await new_key(http, admin_token, role="read", plan="pro")
        reply = await http.get("/v1/auth/token", headers=bearer(pro["api_key"]))
        assert reply.headers["x-ratelimit-limit"] == "10000"
        # 004 §9.1 x §9.3: model management for a premium key is 1000 x 5 per hour.
        reply = await http.get("/api/v1/models/whatever", headers=bearer(pro["api_key"]))
        assert reply.headers["x-ratelimit-limit"] == "5000", reply.headers
        enterprise = await new_key(http, admin_token, role="read", plan="enterprise")
        reply = await http.get("/v1/auth/token", headers=bearer(enterprise["api_key"]))
        assert reply.status_code == 200 and "x-ratelimit-limit" not in reply.headers
        reply = await http.get("/api/v1/system/status", headers=bearer(enterprise["api_key"]))
        assert "x-ratelimit-limit" not in reply.headers  # unlimited on 004's endpoints too


async def test_free_user_cannot_mint_a_pro_key(stack: Stack) -> None:
    async with stack.client() as http:
        _, token, _ = await new_user(http, "greedy")
        reply = await http.post("/auth/generate-key", json={"plan": "pro"}, headers=bearer(token))
        assert reply.status_code == 403
        reply = await http.post("/auth/generate-key", json={"role": "admin"}, headers=bearer(token))
        assert reply.status_code == 403


async def test_two_gateway_processes_share_one_budget_in_redis(stack: Stack) -> None:
    async with stack.client() as http:
        _, token, _ = await new_user(http, "shared")
        key = (await new_key(http, token, role="read", plan="free"))["api_key"]
    with redis_server() as url:
        env = {"REDIS_URL": url, "MESHSERVE_GATEWAY_AUDIT_ENABLED": "false"}
        with (
            gateway_process(stack.auth.address, stack.keys, env, rate_limits=True) as a,
            gateway_process(stack.auth.address, stack.keys, env, rate_limits=True) as b,
        ):
            remaining = []
            async with httpx.AsyncClient(headers=bearer(key), timeout=30) as client:
                for i in range(FREE_LIMIT):
                    reply = await client.get(f"{(a, b)[i % 2]}/v1/auth/token")
                    assert reply.status_code == 200, reply.text
                    remaining.append(int(reply.headers["x-ratelimit-remaining"]))
                assert remaining == list(range(FREE_LIMIT - 1, -1, -1))
                for base in (a, b):
                    reply = await client.get(f"{base}/v1/auth/token")
                    assert reply.status_code == 429 and int(reply.headers["retry-after"]) > 0


async def test_limits_are_exact_across_two_gateways_under_32_concurrent_clients(
    stack: Stack, redis_url: str
) -> None:
    async with stack.client() as http:
        _, token, _ = await new_user(http, "crowd")
        key = (await new_key(http, token, role="read", plan="free"))["api_key"]
    env = {"REDIS_URL": redis_url, "MESHSERVE_GATEWAY_AUDIT_ENABLED": "false"}
    with (
        gateway_process(stack.auth.address, stack.keys, env, rate_limits=True) as a,
        gateway_process(stack.auth.address, stack.keys, env, rate_limits=True) as b,
    ):
        async with httpx.AsyncClient(headers=bearer(key), timeout=60) as client:

            async def caller(n: int) -> list[httpx.Response]:
                return [await client.get(f"{(a, b)[(n + i) % 2]}/v1/auth/token") for i in range(4)]

            replies = [r for batch in await asyncio.gather(*(caller(n) for n in range(32))) for r in batch]
    answered = [r for r in replies if r.status_code == 200]
    refused = [r for r in replies if r.status_code == 429]
    assert len(answered) == FREE_LIMIT and len(refused) == 32 * 4 - FREE_LIMIT  # N allowed, N answered
    assert sorted(int(r.headers["x-ratelimit-remaining"]) for r in answered) == list(range(FREE_LIMIT))
    assert all(int(r.headers["retry-after"]) > 0 for r in refused)
