"""The security layer's pure parts: permission table, plan/endpoint buckets, credentials, masking, JWT."""

from __future__ import annotations

import time

import jwt
import pytest

from gateway.security.audit import mask_query, masked_target
from gateway.security.credentials import extract_credential
from gateway.security.permissions import Access, required_access
from gateway.security.ratelimit import MemoryCounter, RateLimiter, buckets_for
from gateway.security.settings import SecuritySettings
from gateway.security.state import plan_limits
from services.auth.jwt_codec import DEFAULT_SECRET, JwtCodec, check_secret
from services.common.errors import AuthenticationFailed

SECRET = "x" * 64
PLANS = {"anonymous": 100, "free": 100, "pro": 10_000, "enterprise": None}


@pytest.mark.parametrize(
    ("method", "path", "access"),
    [
        ("GET", "/health", Access.PUBLIC),
        ("GET", "/v2/health/ready", Access.PUBLIC),
        ("GET", "/docs", Access.PUBLIC),
        ("GET", "/openapi.json", Access.PUBLIC),
        ("POST", "/auth/login", Access.PUBLIC),
        ("POST", "/api/v1/auth/login", Access.PUBLIC),
        ("POST", "/v1/auth/refresh", Access.PUBLIC),
        ("GET", "/auth/profile", Access.AUTHENTICATED),
        ("DELETE", "/auth/keys/key-1", Access.AUTHENTICATED),
        ("POST", "/predict", Access.WRITE),
        ("POST", "/v1/chat/completions", Access.WRITE),
        ("POST", "/v1/models/m/predict", Access.WRITE),
        ("POST", "/api/v1/infer", Access.WRITE),
        ("POST", "/api/ai/inference/stream", Access.WRITE),
        ("POST", "/v2/models/m/versions/1/infer", Access.WRITE),
        ("GET", "/v1/models", Access.READ),
        ("GET", "/api/v1/system/status", Access.READ),
        ("GET", "/info", Access.READ),
        ("GET", "/dashboard", Access.READ),
        ("GET", "/socket.io/", Access.READ),
        ("POST", "/socket.io/", Access.READ),  # Engine.IO long-polling sends packets with POST
        ("POST", "/dashboard", Access.ADMIN),
        ("POST", "/v1/models", Access.ADMIN),
        ("DELETE", "/v1/models/m", Access.ADMIN),
        ("POST", "/api/v1/models/m/load", Access.ADMIN),
        ("POST", "/autoscaler/scale", Access.ADMIN),
        ("GET", "/api/ai/security/audit", Access.ADMIN),
        ("GET", "/api/analytics/usage", Access.AUTHENTICATED),
        ("GET", "/api/analytics/plans", Access.AUTHENTICATED),
        ("GET", "/api/analytics/budget", Access.AUTHENTICATED),
        ("PUT", "/api/analytics/budget", Access.AUTHENTICATED),
        ("PUT", "/api/analytics/plans/pro", Access.ADMIN),
        ("GET", "/api/analytics/performance", Access.READ),
        ("DELETE", "/logs/gateway.log", Access.ADMIN),
        ("GET", "/some/route/added/later", Access.ADMIN),
        ("PATCH", "/health", Access.ADMIN),
    ],
)
def test_permission_table(method: str, path: str, access: Access) -> None:
    assert required_access(method, path) is access


def test_plan_limits_come_from_the_plan_table() -> None:
    assert plan_limits(SecuritySettings()) == PLANS
    assert plan_limits(SecuritySettings(free_limit=7))["free"] == 7  # the settings override the table
    assert SecuritySettings().rate_limits and SecuritySettings().rate_limit_anonymous  # on by default


def test_004_endpoints_are_limited_by_their_row_and_other_paths_by_the_plan() -> None:
    def limits(plan: str, authenticated: bool, path: str, scale: float = 1.0) -> list[tuple[str, int]]:
        return [(b.name, b.limit) for b in buckets_for(plan, authenticated, path, PLANS, scale)]

    assert limits("free", True, "/v1/models") == [("plan", 100)]
    assert limits("anonymous", False, "/v1/models") == [("plan", 100)]
    assert limits("pro", True, "/v1/models") == [("plan", 10_000)]
    assert limits("enterprise", True, "/api/v1/infer") == []  # unlimited everywhere
    # 004 §9.1: the row is the limit, above the free plan's 100.
    assert limits("free", True, "/api/v1/infer") == [("infer", 1000)]
    assert limits("anonymous", False, "/api/v1/infer") == [("infer", 100)]
    assert limits("free", True, "/api/v1/batch_infer") == [("batch_infer", 100)]
    assert limits("anonymous", False, "/api/v1/batch_infer") == [("batch_infer", 10)]
    assert limits("free", True, "/api/v1/system/status") == [("system", 6000)]
    assert limits("anonymous", False, "/api/v1/models/m") == [("models", 100)]
    # §9.3: premium keys get 10x for inference and 5x for management.
    assert limits("pro", True, "/api/v1/infer") == [("infer", 10_000)]
    assert limits("pro", True, "/api/v1/stream_infer") == [("stream_infer", 5_000)]
    assert limits("pro", True, "/api/v1/models/m") == [("models", 5_000)]
    # MESHSERVE_GATEWAY_RATE_LIMIT_SCALE multiplies every limit.
    assert limits("free", True, "/api/v1/infer", 10) == [("infer", 10_000)]
    assert limits("anonymous", False, "/v1/models", 0.01) == [("plan", 1)]


async def test_fixed_window_counts_down_and_resets() -> None:
    now = [7200.0 + 10]
    limiter = RateLimiter(MemoryCounter(lambda: now[0]), 3600, {"free": 3}, clock=lambda: now[0])
    remaining = [(await limiter.check("k", "free", True, "/x")).remaining for _ in range(3)]
    assert remaining == [2, 1, 0]
    over = await limiter.check("k", "free", True, "/x")
    assert over.exceeded and over.retry_after == 3590 and over.reset == 10800
    now[0] = 10800.0
    assert (await limiter.check("k", "free", True, "/x")).remaining == 2


def test_credential_sources() -> None:
    assert extract_credential([(b"authorization", b"Bearer abc")]) == "abc"
    assert extract_credential([(b"authorization", b"Token abc")]) == "abc"
    assert extract_credential([(b"x-api-key", b"k1"), (b"authorization", b"Bearer abc")]) == "k1"
    assert extract_credential([(b"authorization", b"Basic dXNlcjpwdw==")]) == ""


def test_masking_hides_secrets_and_prompts() -> None:
    masked = mask_query("api_key=msk_abc_def&prompt=tell+me&limit=3&x=eyJhbGciOi.eyJzdWIi.sig")
    assert "msk_abc" not in masked and "tell" not in masked and "eyJ" not in masked and "limit=3" in masked
    assert masked_target("/keys/msk_abc_defgh", "") == "/keys/***"


def test_jwt_codec_refuses_forgeries() -> None:
    codec = JwtCodec(SECRET, "iss", "aud", ttl_seconds=60)
    token, _ = codec.issue("u1", "alice", "read", "free", "s1")
    assert codec.verify(token).role == "read"
    now = int(time.time())
    claims = {"sub": "u1", "role": "admin", "sid": "s1", "jti": "j", "iat": now, "exp": now + 60}
    forged = {
        "alg none": jwt.encode({**claims, "iss": "iss", "aud": "aud"}, None, algorithm="none"),
        "wrong key": jwt.encode({**claims, "iss": "iss", "aud": "aud"}, "y" * 64, algorithm="HS256"),
        "HS512 with the right key": jwt.encode(
            {**claims, "iss": "iss", "aud": "aud"}, SECRET, algorithm="HS512"
        ),
        "expired": jwt.encode(
            {**claims, "iss": "iss", "aud": "aud", "exp": now - 5}, SECRET, algorithm="HS256"
        ),
        "wrong audience": jwt.encode({**claims, "iss": "iss", "aud": "other"}, SECRET, algorithm="HS256"),
        "wrong issuer": jwt.encode({**claims, "iss": "evil", "aud": "aud"}, SECRET, algorithm="HS256"),
        "no exp": jwt.encode({"sub": "u1", "jti": "j", "iat": now, "iss": "iss", "aud": "aud"}, SECRET),
    }
    header, payload, signature = token.split(".")
    forged["tampered"] = ".".join(
        [header, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], signature]
    )
    for bad in forged.values():
        with pytest.raises(AuthenticationFailed):
            codec.verify(bad)


def test_default_or_short_secret_fails_fast_when_auth_is_on() -> None:
    check_secret(DEFAULT_SECRET, enable_auth=False)
    with pytest.raises(ValueError, match="default"):
        check_secret(DEFAULT_SECRET, enable_auth=True)
    with pytest.raises(ValueError, match="32 bytes"):
        check_secret("short", enable_auth=True)
