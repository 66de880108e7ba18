"""With auth on: ``/dashboard`` needs the read role, and the Socket.IO endpoint accepts 004 §7.1's
``auth: {token}`` in the connect packet as well as a header, and refuses a missing or bad token with
the 004 error body (python-socketio's real client against the real gateway app over uvicorn)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import socketio

from gateway.security import SecuritySettings
from services.auth.jwt_codec import JwtCodec
from tests.auth.harness import gateway_app, serve
from tests.procs import free_port

SECRET = secrets.token_urlsafe(48)


@pytest.fixture
async def locked(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    monkeypatch.setenv("MESHSERVE_GATEWAY_EVENTS_PERIOD_SECONDS", "0.2")
    settings = SecuritySettings(
        enable_auth=True,
        jwt_secret=SECRET,
        internal_token=secrets.token_urlsafe(24),
        audit_enabled=False,
        rate_limits=False,  # Engine.IO's requests are not what these tests count
    )
    # JWTs are verified at the gateway; the auth service (unreachable here) is not needed for them.
    async with serve(gateway_app(f"127.0.0.1:{free_port()}", settings)) as url:
        yield url


def token(role: str = "read") -> str:
    codec = JwtCodec(SECRET, "meshserve-auth", "meshserve")
    return codec.issue("u-1", "watcher", role, "free", "s-1")[0]


async def connect(url: str, **options: Any) -> tuple[socketio.AsyncClient, list[Any]]:
    client = socketio.AsyncClient(reconnection=False)
    refusals: list[Any] = []
    client.on("connect_error", refusals.append)
    try:
        await client.connect(url, socketio_path="socket.io", wait_timeout=10, **options)
    except socketio.exceptions.ConnectionError:
        pass
    return client, refusals


async def test_dashboard_needs_the_read_role(locked: str) -> None:
    async with httpx.AsyncClient(base_url=locked, timeout=10) as http:
        assert (await http.get("/dashboard")).status_code == 401
        reply = await http.get("/dashboard", headers={"Authorization": f"Bearer {token()}"})
        assert reply.status_code == 200 and "<html" in reply.text.lower()


# Default transports: the handshake and connect packet go over HTTP long-polling, then upgrade.
@pytest.mark.parametrize("transports", [["websocket"], None])
async def test_socketio_accepts_the_connect_packet_token_and_streams(locked: str, transports: Any) -> None:
    client, refusals = await connect(locked, auth={"token": token()}, transports=transports)
    try:
        assert client.connected and refusals == []
        metrics: asyncio.Queue[Any] = asyncio.Queue()
        client.on("system_metrics", metrics.put_nowait)
        ack = await client.call("subscribe", {"channels": ["system_metrics"]}, timeout=10)
        assert ack["success"] is True and ack["subscribed"] == ["system_metrics"]
        event = await asyncio.wait_for(metrics.get(), 10)
        assert 0 <= event["cpu_usage"] <= 100
    finally:
        await client.disconnect()


async def test_socketio_accepts_a_header_credential(locked: str) -> None:
    client, refusals = await connect(locked, headers={"Authorization": f"Bearer {token('write')}"})
    try:
        assert client.connected and refusals == []
    finally:
        await client.disconnect()


@pytest.mark.parametrize("auth", [None, {"token": "not-a-valid-token"}, {"token": ""}])
async def test_socketio_refuses_a_missing_or_bad_token_with_the_004_body(locked: str, auth: Any) -> None:
    client, refusals = await connect(locked, auth=auth, transports=["websocket"])
    try:
        assert not client.connected
        [refusal] = refusals
        body = refusal["data"]
        assert refusal["message"] == body["error"]["message"]
        assert body["success"] is False and body["error"]["code"] == "AUTHENTICATION_FAILED"
        assert body["request_id"]
    finally:
        await client.disconnect()
