"""``POST /api/gateway/route`` with ENABLE_AUTH=true: the caller's credentials decide access to the
*target* route, as if it were called directly (the route itself needs the write role)."""

from __future__ import annotations

from tests.auth.conftest import Stack
from tests.auth.helpers import bearer, new_key, new_user, reason_of

AUDIT = {"service": "ai_core", "endpoint": "/security/audit", "method": "GET", "payload": {"limit": 5}}


async def test_route_applies_the_callers_credentials_to_the_target(stack: Stack, admin_token: str) -> None:
    async with stack.client() as http:
        _, token, _ = await new_user(http, "router")
        write_key = (await new_key(http, token, role="write"))["api_key"]
        read_key = (await new_key(http, token, role="read"))["api_key"]
        anonymous = await http.post("/api/gateway/route", json=AUDIT)
        assert anonymous.status_code == 401 and reason_of("003", anonymous.json()) == "AUTHENTICATION_FAILED"
        reader = await http.post("/api/gateway/route", json=AUDIT, headers=bearer(read_key))
        assert reader.status_code == 403  # the route itself needs write
        # write may use the route, but the audit log it targets needs admin: refused by the target.
        writer = await http.post("/api/gateway/route", json=AUDIT, headers={"X-API-Key": write_key})
        assert writer.status_code == 403 and reason_of("003", writer.json()) == "PERMISSION_DENIED"
        assert writer.headers["x-gateway-target"] == "GET /api/ai/security/audit"
        admin = await http.post("/api/gateway/route", json=AUDIT, headers=bearer(admin_token))
        assert admin.status_code == 200, admin.text
        direct = await http.get("/api/ai/security/audit", params={"limit": 5}, headers=bearer(admin_token))
        assert set(admin.json()) == set(direct.json())
