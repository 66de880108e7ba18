"""Login throttling on both backends: in process, and in a real Redis shared by two auth replicas,
where failures spread over the replicas add up to one lock that both enforce."""

from __future__ import annotations

import pytest

from services.auth.throttle import LoginThrottle, MemoryFailures, RedisFailures
from services.common.errors import RateLimitExceeded


@pytest.fixture(params=["memory", "redis"])
def pair(request: pytest.FixtureRequest) -> tuple[LoginThrottle, LoginThrottle]:
    if request.param == "memory":
        shared = MemoryFailures()
        return (
            LoginThrottle(3, 60, 30, 100, failures=shared),
            LoginThrottle(3, 60, 30, 100, failures=shared),
        )
    import redis

    url = request.getfixturevalue("redis_url")
    redis.Redis.from_url(url).flushdb()
    return (
        LoginThrottle(3, 60, 30, 100, failures=RedisFailures(url)),
        LoginThrottle(3, 60, 30, 100, failures=RedisFailures(url)),
    )


def test_failures_through_both_replicas_lock_the_account_everywhere(
    pair: tuple[LoginThrottle, LoginThrottle],
) -> None:
    a, b = pair
    assert a.failure("Alice", "10.0.0.1") == []
    assert b.failure("alice", "10.0.0.2") == []
    assert a.failure("alice", "10.0.0.3") == ["account"]  # the third failure, wherever it landed
    for replica in (a, b):
        with pytest.raises(RateLimitExceeded) as refused:
            replica.check("ALICE", "10.0.0.9")
        assert 1 <= refused.value.retry_after <= 30 and refused.value.details == {"locked": "account"}
    b.check("bob", "10.0.0.9")  # others are not affected


def test_a_good_login_clears_the_count(pair: tuple[LoginThrottle, LoginThrottle]) -> None:
    a, b = pair
    a.failure("carol", "10.0.0.1")
    a.failure("carol", "10.0.0.1")
    b.success("carol")
    assert a.failure("carol", "10.0.0.1") == []  # counting starts again
    a.check("carol", "10.0.0.1")
