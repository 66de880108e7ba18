"""ENABLE_AUTH=true through every surface: 401 without or with forged credentials, 403 for a role
too low, revocations honoured within a second, refresh reuse revoking the whole session."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from meshserve.v1 import auth_pb2 as pb
from tests.auth.conftest import Stack
from tests.auth.helpers import INFERENCE_PROBES, READ_PROBES, bearer, new_key, new_user, reason_of


async def test_no_credentials_is_401_in_each_envelope(stack: Stack) -> None:
    async with stack.client() as http:
        for surface, (method, path) in {**READ_PROBES, **INFERENCE_PROBES}.items():
            reply = await http.request(method, path, json={})
            assert reply.status_code == 401, (surface, reply.text)
            assert reply.headers["x-request-id"]
            if surface != "kserve":
                assert reason_of(surface, reply.json()) == "AUTHENTICATION_FAILED"
            else:
                reason_of(surface, reply.json())


async def test_public_paths_stay_open(stack: Stack) -> None:
    async with stack.client() as http:
        for path in ("/openapi.json", "/docs", "/redoc", "/v2/health/live", "/health"):
            reply = await http.get(path)
            assert reply.status_code not in (401, 403), path
        assert (await http.get("/openapi.json")).status_code == 200


async def test_forged_tokens_are_refused_everywhere(stack: Stack) -> None:
    secret = stack.keys.jwt_secret
    async with stack.client() as http:
        user_id, token, _ = await new_user(http, "forge")
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience="meshserve")
        now = int(time.time())
        header, payload, signature = token.split(".")
        forged = {
            "alg none": jwt.encode({**claims, "role": "admin"}, None, algorithm="none"),
            "wrong key": jwt.encode({**claims, "role": "admin"}, "k" * 64, algorithm="HS256"),
            "expired": jwt.encode({**claims, "iat": now - 100, "exp": now - 10}, secret, algorithm="HS256"),
            "wrong audience": jwt.encode({**claims, "aud": "someone-else"}, secret, algorithm="HS256"),
            "tampered": f"{header}.{payload[:-3]}xyz.{signature}",
        }
        for name, bad in forged.items():
            for surface, (method, path) in READ_PROBES.items():
                reply = await http.request(method, path, headers=bearer(bad))
                assert reply.status_code == 401, (name, surface, reply.text)
        # The genuine token passes the same probes.
        reply = await http.get("/v1/auth/token", headers=bearer(token))
        assert reply.status_code == 200 and reply.json()["user_id"] == user_id


async def test_read_key_cannot_run_inference_on_any_surface(stack: Stack) -> None:
    async with stack.client() as http:
        _, token, _ = await new_user(http, "reader")
        read_key = (await new_key(http, token, role="read"))["api_key"]
        write_key = (await new_key(http, token, role="write"))["api_key"]
        for surface, (method, path) in INFERENCE_PROBES.items():
            for headers in (
                bearer(read_key),
                {"X-API-Key": read_key},
                {"Authorization": f"Token {read_key}"},
            ):
                reply = await http.request(method, path, json={}, headers=headers)
                assert reply.status_code == 403, (surface, reply.text)
                if surface != "kserve":
                    assert reason_of(surface, reply.json()) == "PERMISSION_DENIED"
            # The write key gets past the security layer (inference itself is not running here).
            reply = await http.request(method, path, json={}, headers=bearer(write_key))
            assert reply.status_code not in (401, 403), (surface, reply.text)


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        ("read", "GET", "/api/v1/system/status", True),
        ("read", "POST", "/v1/models", False),
        ("write", "POST", "/v1/models", False),
        ("write", "GET", "/api/ai/security/audit", False),
        ("admin", "GET", "/api/ai/security/audit", True),
        ("write", "GET", "/an/endpoint/nobody/wrote/yet", False),
        ("admin", "GET", "/an/endpoint/nobody/wrote/yet", True),
    ],
)
async def test_roles_per_route(
    stack: Stack, admin_token: str, role: str, method: str, path: str, allowed: bool
) -> None:
    async with stack.client() as http:
        key = (await new_key(http, admin_token, role=role))["api_key"]
        reply = await http.request(method, path, headers=bearer(key))
        assert (reply.status_code not in (401, 403)) is allowed, reply.text


async def test_revoked_key_is_refused_within_a_second_everywhere(stack: Stack) -> None:
    async with stack.client() as http:
        user_id, token, _ = await new_user(http, "revoke")
        created = await new_key(http, token, role="read")
        key, key_id = created["api_key"], created["key"]["id"]
        for method, path in READ_PROBES.values():  # warm the gateway's key cache on every surface
            assert (await http.request(method, path, headers=bearer(key))).status_code not in (401, 403)
        # Revoke straight at the auth service, so this gateway learns it only from the revocation log.
        clients = stack.security.clients
        await clients.call(clients.auth.RevokeApiKey, pb.RevokeApiKeyRequest(user_id=user_id, key_id=key_id))
        revoked_at = time.monotonic()
        pending = dict(READ_PROBES)
        while pending and time.monotonic() - revoked_at < 1.0:
            for surface, (method, path) in list(pending.items()):
                if (await http.request(method, path, headers=bearer(key))).status_code == 401:
                    del pending[surface]
            await asyncio.sleep(0.02)
        assert not pending, f"still accepted after 1 s on {sorted(pending)}"


async def test_logout_revokes_the_session_at_once(stack: Stack) -> None:
    async with stack.client() as http:
        _, token, refresh = await new_user(http, "logout")
        assert (await http.get("/auth/profile", headers=bearer(token))).status_code == 200
        assert (await http.post("/auth/logout", headers=bearer(token))).json()["success"] is True
        for method, path in READ_PROBES.values():
            assert (await http.request(method, path, headers=bearer(token))).status_code == 401
        assert (await http.post("/v1/auth/refresh", json={"refresh_token": refresh})).status_code == 401


async def test_refresh_rotates_and_reuse_revokes_the_family(stack: Stack) -> None:
    async with stack.client() as http:
        _, token, first = await new_user(http, "rotate")
        reply = await http.post("/v1/auth/refresh", json={"refresh_token": first})
        assert reply.status_code == 200, reply.text
        second = reply.json()
        assert (
            second["refresh_token"] != first and second["token_type"] == "bearer" and second["expires_in"] > 0
        )
        assert (await http.get("/v1/auth/token", headers=bearer(second["access_token"]))).status_code == 200
        # The first refresh token again: theft assumed, the whole family dies.
        reused = await http.post("/v1/auth/refresh", json={"refresh_token": first})
        assert reused.status_code == 401 and "reused" in reused.json()["error"]["message"]
        assert (
            await http.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
        ).status_code == 401
        deadline = time.monotonic() + 1.0
        statuses: set[int] = set()
        while time.monotonic() < deadline:
            statuses = {
                (await http.get("/v1/auth/token", headers=bearer(t))).status_code
                for t in (token, second["access_token"])
            }
            if statuses == {401}:
                break
            await asyncio.sleep(0.02)
        assert statuses == {401}, "access tokens of a revoked family still accepted after 1 s"
