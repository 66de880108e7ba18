"""The rate limits a gateway has with no setting of them: document 004 §9.1's rows on its endpoints
(the unauthenticated column for anonymous callers, counted by address; §9.3's multipliers for a pro
key), the plans elsewhere, in every mode; and ``MESHSERVE_GATEWAY_RATE_LIMITS=off`` removing them.

Real ``python -m gateway`` processes in front of the session's auth process, over real sockets."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import httpx
import pytest

from gateway.security import SecuritySettings
from services.launcher.settings import LauncherSettings
from services.launcher.supervisor import mesh_environment
from tests.auth.conftest import Stack
from tests.auth.harness import gateway_process
from tests.auth.helpers import bearer, new_key, new_user, reason_of
from tests.procs import free_port


def open_env(**extra: str) -> dict[str, str]:
    """Auth off (document 001's optional auth), every service but auth on a closed port."""
    closed = {
        f"MESHSERVE_{name}_ADDRESS": f"127.0.0.1:{free_port()}"
        for name in ("REGISTRY", "INFERENCE", "SPEECH", "AUTOSCALER")
    }
    return {"ENABLE_AUTH": "false", "MESHSERVE_CALL_TIMEOUT_SECONDS": "5", **closed, **extra}


@pytest.fixture(scope="module")
def open_gateway(stack: Stack) -> Iterator[str]:
    """A gateway process with auth off and no rate-limit setting at all (the defaults)."""
    with gateway_process(stack.auth.address, stack.keys, open_env(), rate_limits=True) as url:
        yield url


def limit_of(reply: httpx.Response) -> tuple[int, int]:
    """(X-RateLimit-Limit, X-RateLimit-Remaining), checking X-RateLimit-Reset on the way."""
    reset = int(reply.headers["x-ratelimit-reset"])
    assert time.time() < reset <= time.time() + 3600
    return int(reply.headers["x-ratelimit-limit"]), int(reply.headers["x-ratelimit-remaining"])


async def test_anonymous_callers_get_004s_unauthenticated_column_and_the_anonymous_plan(
    open_gateway: str,
) -> None:
    async with httpx.AsyncClient(base_url=open_gateway, timeout=30) as http:
        for path, documented in (
            ("/api/v1/models", 100),  # 004 §9.1, unauthenticated
            ("/api/v1/models/m1", 100),
            ("/api/v1/system/status", 600),
            ("/v1/models", 100),  # 000's path: the anonymous plan
        ):
            first = limit_of(await http.get(path))
            second = limit_of(await http.get(path))
            assert first[0] == second[0] == documented, path
            assert second[1] == first[1] - 1, path
        assert "x-ratelimit-limit" not in (await http.get("/health")).headers  # probes are not counted


async def test_signed_in_free_user_gets_1000_and_a_pro_key_10000_on_infer(
    open_gateway: str, stack: Stack, admin_token: str
) -> None:
    async with stack.client() as admin:
        pro = await new_key(admin, admin_token, role="write", plan="pro")
    async with httpx.AsyncClient(base_url=open_gateway, timeout=30) as http:
        _, token, _ = await new_user(http, "ratefree")
        free = await http.post("/api/v1/infer", json={}, headers=bearer(token))
        assert limit_of(free) == (1000, 999)  # 004 §9.1, not the free plan's 100
        assert limit_of(await http.get("/v1/models", headers=bearer(token)))[0] == 100  # the free plan
        key = bearer(pro["api_key"])
        assert limit_of(await http.post("/api/v1/infer", json={}, headers=key)) == (10_000, 9_999)  # x10
        assert limit_of(await http.get("/api/v1/models", headers=key))[0] == 5_000  # §9.3: x5
        assert limit_of(await http.get("/v1/models", headers=key))[0] == 10_000  # the pro plan


async def test_the_101st_anonymous_request_to_a_004_endpoint_is_refused(open_gateway: str) -> None:
    async with httpx.AsyncClient(base_url=open_gateway, timeout=30) as http:
        remaining = [limit_of(await http.post("/api/v1/infer", json={}))[1] for _ in range(100)]
        assert remaining == list(range(99, -1, -1))
        refused = await http.post("/api/v1/infer", json={})
        assert refused.status_code == 429, refused.text
        assert 0 < int(refused.headers["retry-after"]) <= 3600
        assert refused.headers["x-ratelimit-retry-after"] == refused.headers["retry-after"]  # 003's name
        assert limit_of(refused) == (100, 0)
        body = refused.json()
        assert body["success"] is False and reason_of("004", body) == "RATE_LIMIT_EXCEEDED"  # 004's envelope
        # Each §9.1 row is its own budget: batch inference (10 unauthenticated) is untouched.
        batch = [(await http.post("/api/v1/batch_infer", json={})).status_code for _ in range(11)]
        assert 429 not in batch[:10] and batch[10] == 429


async def test_limits_hold_with_auth_on_too(limited: Stack) -> None:
    async with limited.client() as http:
        reply = await http.post("/auth/register", json={})  # public: anonymous, counted by address
        assert limit_of(reply)[0] == 100


async def test_rate_limits_off_removes_them(stack: Stack) -> None:
    env = open_env(MESHSERVE_GATEWAY_RATE_LIMITS="off")
    with gateway_process(stack.auth.address, stack.keys, env, rate_limits=True) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            for path in ("/api/v1/models", "/v1/models"):
                assert "x-ratelimit-limit" not in (await http.get(path)).headers
            batch = [(await http.post("/api/v1/batch_infer", json={})).status_code for _ in range(11)]
            assert 429 not in batch


def test_make_up_keeps_the_default_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("MESHSERVE_GATEWAY_RATE_LIMIT")]:
        monkeypatch.delenv(name)
    env = mesh_environment(LauncherSettings())  # what ``meshserve up`` gives the gateway
    assert not [name for name in env if name.startswith("MESHSERVE_GATEWAY_RATE_LIMIT")]
    defaults = SecuritySettings()
    assert defaults.rate_limits and defaults.rate_limit_anonymous and defaults.rate_limit_scale == 1.0
