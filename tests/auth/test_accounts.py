"""Accounts through the gateway: the 001/004/000 auth surfaces, keys shown once and stored hashed,
login locks in the audit log, masked audit entries, the internal credential, and optional auth."""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

import grpc
import httpx
import pytest

from gateway.security import SecuritySettings, SecurityState
from meshserve.v1 import auth_pb2 as pb
from meshserve.v1 import auth_pb2_grpc as pb_grpc
from services.auth.jwt_codec import DEFAULT_SECRET
from services.common.internal_auth import INTERNAL_TOKEN_HEADER
from tests.auth.conftest import Stack
from tests.auth.harness import ADMIN_USER, gateway_app, new_secrets, serve, start_auth
from tests.auth.helpers import bearer, new_key, new_user, reason_of


async def audit_events(stack: Stack, admin_token: str, **params: str) -> list[dict[str, object]]:
    """The audit log after the gateway flushed what it queued."""
    await stack.security.audit.flush()
    async with stack.client() as http:
        reply = await http.get("/api/ai/security/audit", params=params, headers=bearer(admin_token))
    assert reply.status_code == 200, reply.text
    return list(reply.json()["events"])


async def test_register_login_by_email_profile_and_004_login(stack: Stack) -> None:
    name = f"eve{secrets.token_hex(3)}"
    async with stack.client() as http:
        reply = await http.post(
            "/auth/register",
            json={"username": name, "email": f"{name}@Example.com", "password": "pass-word-1"},
        )
        assert reply.status_code == 201 and reply.json()["user"]["role"] == "write"
        assert (
            await http.post(
                "/auth/register", json={"username": name, "email": "x@y.zz", "password": "pass-word-1"}
            )
        ).status_code == 409
        reply = await http.post(
            "/auth/login", json={"email": f"{name}@example.com", "password": "pass-word-1"}
        )
        assert reply.status_code == 200
        body = reply.json()
        assert body["success"] is True and body["token_type"] == "bearer" and body["expires_in"] == 900
        profile = (await http.get("/auth/profile", headers=bearer(body["access_token"]))).json()
        assert profile["user"]["username"] == name and profile["user"]["permissions"] == ["read", "write"]
        assert "password" not in str(profile)
        reply = await http.post("/api/v1/auth/login", json={"username": name, "password": "pass-word-1"})
        llama = reply.json()
        assert llama["success"] is True and llama["expires_in"] == 900 and llama["token"].startswith("eyJ")
        assert llama["user"]["id"] == body["user"]["id"]
        assert llama["user"]["role"] == "write" and llama["user"]["permissions"] == ["read", "write"]
        bad = await http.post("/api/v1/auth/login", json={"username": name, "password": "wrong-password"})
        assert bad.status_code == 401 and reason_of("004", bad.json()) == "AUTHENTICATION_FAILED"
        info = (await http.get("/v1/auth/token", headers=bearer(llama["token"]))).json()
        assert info["credential_type"] == "jwt" and 0 < info["expires_in"] <= 900


async def test_admin_bootstrapped_from_environment(stack: Stack, admin_token: str) -> None:
    async with stack.client() as http:
        profile = (await http.get("/auth/profile", headers=bearer(admin_token))).json()
    assert profile["user"]["username"] == ADMIN_USER and profile["user"]["role"] == "admin"
    assert profile["user"]["plan"] == "enterprise"


async def test_keys_shown_once_listed_revoked_and_expiring(stack: Stack) -> None:
    async with stack.client() as http:
        _, token, _ = await new_user(http, "keys")
        created = await new_key(http, token, role="read", ttl_seconds=1)
        secret, key_id = created["api_key"], created["key"]["id"]
        assert secret.startswith("msk_") and created["key"]["expires_at"]
        listed = (await http.get("/auth/keys", headers=bearer(token))).json()["keys"]
        assert [k["id"] for k in listed] == [key_id] and secret not in str(listed)
        assert listed[0]["prefix"] == secret[:16]
        await asyncio.sleep(1.1)  # the key's own one-second lifetime
        assert (await http.get("/auth/profile", headers=bearer(secret))).status_code == 401
        other = (await new_key(http, token))["key"]["id"]
        assert (await http.delete(f"/auth/keys/{other}", headers=bearer(token))).status_code == 200
        listed = (await http.get("/auth/keys", headers=bearer(token))).json()["keys"]
        assert {k["id"]: k["revoked"] for k in listed}[other] is True


async def test_database_holds_no_plaintext_password_or_key(stack: Stack) -> None:
    password = f"Plaintext-{secrets.token_hex(8)}"
    name = f"db{secrets.token_hex(3)}"
    async with stack.client() as http:
        assert (
            await http.post(
                "/auth/register", json={"username": name, "email": f"{name}@ex.com", "password": password}
            )
        ).status_code == 201
        login = (await http.post("/auth/login", json={"username": name, "password": password})).json()
        key = (await new_key(http, login["access_token"], role="read"))["api_key"]
    data = b"".join(p.read_bytes() for p in Path(stack.db_path).parent.glob("auth.db*"))
    assert name.encode() in data  # the file is the right one
    for secret in (password, key, key.split("_", 2)[2], login["refresh_token"]):
        assert secret.encode() not in data
    assert b"$argon2id$" in data


async def test_ten_failed_logins_lock_the_account_and_the_lock_is_audited(
    stack: Stack, admin_token: str
) -> None:
    name = f"locked{secrets.token_hex(3)}"
    async with stack.client() as http:
        reply = await http.post(
            "/auth/register", json={"username": name, "email": f"{name}@ex.com", "password": "pass-word-1"}
        )
        user_id = reply.json()["user"]["id"]
        for _ in range(10):
            reply = await http.post("/auth/login", json={"username": name, "password": "not-the-password"})
            assert reply.status_code == 401
        # Even the right password is refused while the lock lasts.
        reply = await http.post("/auth/login", json={"username": name, "password": "pass-word-1"})
        assert reply.status_code == 429 and int(reply.headers["retry-after"]) > 0
        assert reason_of("001", reply.json()) == "RATE_LIMIT_EXCEEDED"
    events = await audit_events(stack, admin_token, user_id=user_id)
    actions = [e["action"] for e in events]
    assert actions.count("login_failed") == 10 and "account_locked" in actions
    lock = next(e for e in events if e["action"] == "account_locked")
    assert lock["outcome"] == "locked" and lock["client_address"] == "127.0.0.1"


async def test_audit_records_who_what_where_outcome_latency_masked(stack: Stack, admin_token: str) -> None:
    prompt = f"my-secret-prompt-{secrets.token_hex(4)}"
    async with stack.client() as http:
        user_id, token, _ = await new_user(http, "audited")
        key = (await new_key(http, token, role="read"))["api_key"]
        reply = await http.get(
            "/v1/auth/token",
            params={"api_key": key, "prompt": prompt, "limit": "3"},
            headers={"X-API-Key": key},
        )
        assert reply.status_code == 200
        rid = reply.headers["x-request-id"]
        denied = await http.post("/predict", json={"inputs": [prompt]}, headers=bearer(key))
        assert denied.status_code == 403
    since = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
    events = await audit_events(stack, admin_token, user_id=user_id, date_from=since)
    mine = next(e for e in events if e["request_id"] == rid)
    assert mine["method"] == "GET" and mine["path"].startswith("/v1/auth/token?")
    assert "api_key=***" in mine["path"] and "prompt=***" in mine["path"] and "limit=3" in mine["path"]
    assert mine["status"] == 200 and mine["outcome"] == "success" and mine["client_address"] == "127.0.0.1"
    assert mine["credential_type"] == "api_key" and float(mine["latency_ms"]) > 0
    assert any(e["path"] == "/predict" and e["status"] == 403 and e["outcome"] == "denied" for e in events)
    assert key not in str(events) and prompt not in str(events)
    data = b"".join(p.read_bytes() for p in Path(stack.db_path).parent.glob("auth.db*"))
    assert prompt.encode() not in data and key.encode() not in data
    assert await audit_events(stack, admin_token, user_id=user_id, date_to="2000-01-01") == []


async def test_an_impossible_audit_date_is_refused_in_003s_envelope(stack: Stack, admin_token: str) -> None:
    async with stack.client() as http:
        for params, field in (({"date_from": "2026-13-45"}, "date_from"), ({"date_to": "soon"}, "date_to")):
            reply = await http.get("/api/ai/security/audit", params=params, headers=bearer(admin_token))
            assert reply.status_code == 400, reply.text
            error = reply.json()["error"]
            assert error["code"] == "INVALID_INPUT" and error["details"]["field"] == field


async def test_services_refuse_calls_without_the_internal_credential(stack: Stack) -> None:
    async with grpc.aio.insecure_channel(stack.auth.address) as channel:
        stub = pb_grpc.AuthServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListAuditEvents(pb.ListAuditEventsRequest(limit=1), timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.aio.AioRpcError) as wrong:
            await stub.ListAuditEvents(
                pb.ListAuditEventsRequest(limit=1), timeout=5, metadata=((INTERNAL_TOKEN_HEADER, "nope"),)
            )
        assert wrong.value.code() == grpc.StatusCode.UNAUTHENTICATED
        ok = await stub.ListAuditEvents(
            pb.ListAuditEventsRequest(limit=1),
            timeout=5,
            metadata=((INTERNAL_TOKEN_HEADER, stack.keys.internal_token),),
        )
        assert len(ok.events) <= 1


def test_unsafe_settings_fail_fast(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="default JWT secret"):
        SecurityState(SecuritySettings(enable_auth=True, jwt_secret=DEFAULT_SECRET, internal_token="t" * 20))
    with pytest.raises(ValueError, match="MESHSERVE_INTERNAL_TOKEN"):
        SecurityState(SecuritySettings(enable_auth=True, jwt_secret="s" * 40, internal_token=""))
    keys = new_secrets()
    with pytest.raises(RuntimeError, match="exited"):
        start_auth(tmp_path, keys, MESHSERVE_JWT_SECRET=DEFAULT_SECRET)


async def test_auth_off_lets_anonymous_calls_through(stack: Stack) -> None:
    settings = SecuritySettings(
        enable_auth=False,
        jwt_secret=stack.keys.jwt_secret,
        internal_token=stack.keys.internal_token,
        rate_limits=True,  # the default, whatever the environment says
    )
    app = gateway_app(stack.auth.address, settings)
    try:
        async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
            # Anonymous, and with a foreign placeholder key (as OpenAI clients send): not refused,
            # and counted by address against the anonymous plan, auth off or not.
            for n, headers in enumerate(({}, {"Authorization": "Bearer sk-placeholder"})):
                reply = await http.post("/api/ai/inference", json={}, headers=headers)
                assert reply.status_code not in (401, 403), reply.text
                assert reply.headers["x-ratelimit-limit"] == "100"
                assert reply.headers["x-ratelimit-remaining"] == str(99 - n)
            # Account routes still need an account; real credentials are honoured and counted.
            assert (await http.get("/auth/profile")).status_code == 401
            _, token, _ = await new_user(http, "open")
            reply = await http.get("/auth/profile", headers=bearer(token))
            assert reply.status_code == 200 and reply.headers["x-ratelimit-limit"] == "100"
    finally:
        SecurityState(stack.security.settings)  # restore the session's internal credential
