"""Document 004's ``X-API-Version``: served on every ``/api/v1`` response, and an unserved version
refused in 004's envelope. The gateway in process (no mesh needed for these answers)."""

from __future__ import annotations

import httpx


async def test_every_api_v1_response_says_its_version(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/no-such-route")
    assert missing.status_code == 404 and missing.headers["x-api-version"] == "1.0"
    assert missing.json()["success"] is False  # 004's envelope
    same = await client.get("/api/v1/no-such-route", headers={"X-API-Version": "1.0"})
    assert same.status_code == 404
    other_surface = await client.get("/v2/health/live-no-such")
    assert "x-api-version" not in other_surface.headers


async def test_an_unserved_version_is_refused(client: httpx.AsyncClient) -> None:
    reply = await client.get("/api/v1/models", headers={"X-API-Version": "2.0"})
    assert reply.status_code == 400 and reply.headers["x-api-version"] == "1.0"
    body = reply.json()
    assert body["success"] is False and body["error"]["code"] == "INVALID_INPUT"
    assert (
        body["error"]["details"]["field"] == "X-API-Version"
        and body["request_id"] == reply.headers["x-request-id"]
    )
