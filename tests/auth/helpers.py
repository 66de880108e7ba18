"""Small helpers of the auth tests: accounts, keys, surfaces and their envelopes."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

#: One authenticated GET per surface that needs only the read role (the route's own answer does not matter).
READ_PROBES: dict[str, tuple[str, str]] = {
    "001": ("GET", "/auth/profile"),
    "000": ("GET", "/v1/auth/token"),
    "004": ("GET", "/api/v1/system/status"),
    "003": ("GET", "/api/ai/models"),
    "kserve": ("GET", "/v2/models/example"),
}

#: One inference call per surface (needs the write role).
INFERENCE_PROBES: dict[str, tuple[str, str]] = {
    "001": ("POST", "/predict"),
    "openai": ("POST", "/v1/chat/completions"),
    "000": ("POST", "/v1/models/example/predict"),
    "004": ("POST", "/api/v1/infer"),
    "003": ("POST", "/api/ai/inference"),
    "kserve": ("POST", "/v2/models/example/infer"),
}


def reason_of(surface: str, body: Any) -> str:
    """The canonical reason code in a surface's error envelope (asserting the envelope's shape)."""
    if surface == "001":
        assert body["success"] is False and isinstance(body["error"], str) and "detail" in body
        return str(body["code"])
    if surface in ("000", "openai"):
        error = body["error"]
        assert set(error) >= {"message", "type", "param", "code"}
        return str(error["reason"])
    if surface == "004":
        assert body["success"] is False and {"request_id", "timestamp"} <= set(body)
        assert set(body["error"]) == {"code", "message", "details"}
        return str(body["error"]["code"])
    if surface == "003":
        assert {"request_id", "timestamp"} <= set(body)
        assert set(body["error"]) == {"code", "message", "details", "suggestion"}
        return str(body["error"]["code"])
    assert surface == "kserve" and set(body) == {"error"} and isinstance(body["error"], str)
    return ""


async def new_user(http: httpx.AsyncClient, prefix: str = "user") -> tuple[str, str, str]:
    """Registers a fresh user and logs in: (user id, access token, refresh token)."""
    name = f"{prefix}{secrets.token_hex(4)}"
    reply = await http.post(
        "/auth/register", json={"username": name, "email": f"{name}@example.com", "password": "pass-word-1"}
    )
    assert reply.status_code == 201, reply.text
    reply = await http.post("/auth/login", json={"username": name, "password": "pass-word-1"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    return body["user"]["id"], body["access_token"], body["refresh_token"]


async def new_key(
    http: httpx.AsyncClient, token: str, role: str = "", plan: str = "", **extra: Any
) -> dict[str, Any]:
    """Creates an API key with a bearer token; returns the response body."""
    reply = await http.post(
        "/auth/generate-key",
        json={"name": "test", "role": role, "plan": plan, **extra},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def bearer(credential: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {credential}"}
