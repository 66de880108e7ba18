"""Metering through a real auth process and a real gateway on sockets, auth enabled: usage recorded
over ``MeteringService`` with the internal credential, then read at ``/api/analytics/usage`` as its
user (own rows), as another user asking for the first one's tenant (403 in 003's envelope) and as an
admin (every tenant); plans readable by users and edited by admins; budgets set by their tenant.
With auth off (local mode) the routes are open, as every other route."""

from __future__ import annotations

import time
import uuid
from typing import Any

import grpc
import httpx
import pytest

from gateway.security import SecuritySettings
from meshserve.v1 import metering_pb2 as pb
from meshserve.v1 import metering_pb2_grpc as pb_grpc
from services.common.internal_auth import INTERNAL_TOKEN_HEADER
from tests.auth.conftest import Stack
from tests.auth.harness import gateway_app, serve
from tests.auth.helpers import bearer, new_user, reason_of


def record(tenant: str, model: str, latency: float, outcome: str = "ok") -> pb.UsageRecord:
    return pb.UsageRecord(
        request_id=uuid.uuid4().hex,
        tenant=tenant,
        plan="free",
        model=model,
        surface="openai",
        prompt_tokens=1000,
        completion_tokens=500,
        unit="tokens",
        latency_ms=latency,
        outcome=outcome,
        finished_at=time.time(),
    )


async def record_usage(stack: Stack, records: list[pb.UsageRecord]) -> pb.RecordUsageResponse:
    async with grpc.aio.insecure_channel(stack.auth.address) as channel:
        stub = pb_grpc.MeteringServiceStub(channel)
        reply: pb.RecordUsageResponse = await stub.RecordUsage(
            pb.RecordUsageRequest(records=records),
            timeout=10,
            metadata=((INTERNAL_TOKEN_HEADER, stack.keys.internal_token),),
        )
        return reply


async def get(http: httpx.AsyncClient, path: str, token: str, **params: str) -> tuple[int, Any]:
    reply = await http.get(path, params=params, headers=bearer(token))
    return reply.status_code, reply.json()


async def test_usage_is_read_by_its_tenant_and_by_admins_only(stack: Stack, admin_token: str) -> None:
    async with stack.client() as http:
        alice, alice_token, _ = await new_user(http, "alice")
        bob, bob_token, _ = await new_user(http, "bob")
    mine = [record(alice, "m1", latency) for latency in (10.0, 20.0, 30.0)]
    mine.append(record(alice, "m1", 40.0, outcome="error"))
    theirs = [record(bob, "m2", 5.0)]
    reply = await record_usage(stack, [*mine, *theirs, mine[0]])  # a repeated request id counts once
    assert reply.stored == 5 and list(reply.alerts) == []
    assert (await record_usage(stack, mine)).stored == 0

    async with stack.client() as http:
        status, body = await get(http, "/api/analytics/usage", alice_token)
        assert status == 200, body
        assert {"request_id", "timestamp", "forecast"} <= set(body)
        assert [(r["tenant"], r["model"], r["requests"], r["errors"]) for r in body["usage"]] == [
            (alice, "m1", 4, 1)
        ]
        row = body["usage"][0]
        assert row["prompt_tokens"] == 4000 and row["completion_tokens"] == 2000
        assert row["latency_p50_ms"] == 25.0 and row["cost_usd"] == 6 * 0.002
        assert body["forecast"]["spent_usd"] == 6 * 0.002 and body["forecast"]["method"]
        assert (await get(http, "/api/analytics/usage", alice_token, tenant=alice))[0] == 200

        # Another user asking for alice's usage: 403, in 003's envelope.
        status, body = await get(http, "/api/analytics/usage", bob_token, tenant=alice)
        assert status == 403 and reason_of("003", body) == "PERMISSION_DENIED"
        status, body = await get(http, "/api/analytics/usage", bob_token)
        assert [r["tenant"] for r in body["usage"]] == [bob]

        # An admin sees every tenant, or the one asked for.
        status, body = await get(http, "/api/analytics/usage", admin_token)
        assert status == 200 and {alice, bob} <= {r["tenant"] for r in body["usage"]}
        status, body = await get(http, "/api/analytics/usage", admin_token, tenant=alice, model="m1")
        assert [r["tenant"] for r in body["usage"]] == [alice]

        status, body = await get(http, "/api/analytics/usage", alice_token, date_from="yesterday")
        assert status == 400 and reason_of("003", body) == "INVALID_INPUT"
        assert body["error"]["details"]["field"] == "date_from"
        anonymous = await http.get("/api/analytics/usage")
        assert anonymous.status_code == 401 and reason_of("003", anonymous.json()) == "AUTHENTICATION_FAILED"


async def test_plans_are_read_by_users_and_edited_by_admins(stack: Stack, admin_token: str) -> None:
    async with stack.client() as http:
        _, token, _ = await new_user(http, "planreader")
        status, body = await get(http, "/api/analytics/plans", token)
        assert status == 200 and [p["name"] for p in body["plans"]] == [
            "anonymous",
            "free",
            "pro",
            "enterprise",
        ]
        enterprise = next(p for p in body["plans"] if p["name"] == "enterprise")
        edit = {k: v for k, v in enterprise.items() if k != "name"} | {"model_prices": {"big-model": 0.03}}
        refused = await http.put("/api/analytics/plans/enterprise", json=edit, headers=bearer(token))
        assert refused.status_code == 403 and reason_of("003", refused.json()) == "PERMISSION_DENIED"
        done = await http.put("/api/analytics/plans/enterprise", json=edit, headers=bearer(admin_token))
        assert done.status_code == 200 and done.json()["plan"]["model_prices"] == {"big-model": 0.03}
        bad = await http.put(
            "/api/analytics/plans/enterprise",
            json={**edit, "monthly_tokens": -5},
            headers=bearer(admin_token),
        )
        assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "monthly_tokens"
        unknown = await http.put("/api/analytics/plans/platinum", json=edit, headers=bearer(admin_token))
        assert unknown.status_code == 400 and unknown.json()["error"]["details"]["field"] == "name"
        restore = {k: v for k, v in enterprise.items() if k != "name"}
        assert (
            await http.put("/api/analytics/plans/enterprise", json=restore, headers=bearer(admin_token))
        ).is_success


async def test_a_tenant_sets_its_own_budget_and_is_alerted_once(stack: Stack, admin_token: str) -> None:
    async with stack.client() as http:
        carol, token, _ = await new_user(http, "carol")
        _, other_token, _ = await new_user(http, "dave")
        reply = await http.put(
            "/api/analytics/budget",
            json={"limit_usd": 0.005, "alert_thresholds": [100, 50]},
            headers=bearer(token),
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["budget"] | {"month": ""} == {
            "tenant": carol,
            "limit_usd": 0.005,
            "alert_thresholds": [50, 100],
            "spent_usd": 0.0,
            "alerted": [],
            "month": "",
        }
        bad = await http.put(
            "/api/analytics/budget", json={"limit_usd": 1, "alert_thresholds": [0]}, headers=bearer(token)
        )
        assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "alert_thresholds"
        foreign = await http.put(
            "/api/analytics/budget", json={"limit_usd": 9, "tenant": carol}, headers=bearer(other_token)
        )
        assert foreign.status_code == 403 and reason_of("003", foreign.json()) == "PERMISSION_DENIED"
        assert (await get(http, "/api/analytics/budget", other_token, tenant=carol))[0] == 403

    first = await record_usage(stack, [record(carol, "m1", 1.0)])  # $0.003 of $0.005: 50%
    assert [(a.tenant, a.threshold_percent) for a in first.alerts] == [(carol, 50)]
    second = await record_usage(stack, [record(carol, "m1", 1.0)])  # $0.006: 100%, 50% not again
    assert [a.threshold_percent for a in second.alerts] == [100]

    async with stack.client() as http:
        status, body = await get(http, "/api/analytics/budget", admin_token, tenant=carol)
        assert status == 200 and body["budget"]["alerted"] == [50, 100]
        assert body["budget"]["spent_usd"] == 0.006

    async with grpc.aio.insecure_channel(stack.auth.address) as channel:
        stub = pb_grpc.MeteringServiceStub(channel)
        metadata = ((INTERNAL_TOKEN_HEADER, stack.keys.internal_token),)
        allowance = await stub.GetAllowance(
            pb.GetAllowanceRequest(tenant=carol, plan="free"), metadata=metadata
        )
        assert (allowance.quota_tokens, allowance.used_tokens, allowance.budget_usd) == (1_000, 3_000, 0.005)
        assert allowance.spent_usd == 0.006 and allowance.reset_at > time.time()
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await stub.GetAllowance(pb.GetAllowanceRequest(tenant=carol, plan="gold"), metadata=metadata)
        assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_with_auth_off_the_routes_are_open(stack: Stack) -> None:
    settings = SecuritySettings(
        enable_auth=False, jwt_secret=stack.keys.jwt_secret, internal_token=stack.keys.internal_token
    )
    await record_usage(stack, [record("", "anon-model", 3.0)])
    async with (
        serve(gateway_app(stack.auth.address, settings)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        body = (await http.get("/api/analytics/usage", params={"model": "anon-model"})).json()
        assert [r["tenant"] for r in body["usage"]] == [""]
        budget = await http.get("/api/analytics/budget")
        assert budget.status_code == 200 and budget.json()["budget"]["tenant"] == ""
        assert (await http.get("/api/analytics/plans")).status_code == 200
