"""Rate limits by plan and endpoint, in fixed windows, counted in-process or in Redis.

The rule: a request to one of document 004 §9.1's endpoints counts against that endpoint's row, and
that row is its limit: the authenticated column for a caller with a credential, the unauthenticated
one for an anonymous caller (counted by client address); premium plans (pro) get §9.3's multipliers,
10x for inference and 5x for management. Every other counted path counts against the caller's plan
(anonymous and free 100, pro 10,000 per hour: ``services.common.plans``). Enterprise is unlimited
everywhere. Probes, metrics and docs are not counted (``permissions.is_quiet``).

It is on by default, whether authentication is enabled or not; ``MESHSERVE_GATEWAY_RATE_LIMITS=off``
turns it off and ``MESHSERVE_GATEWAY_RATE_LIMIT_SCALE`` multiplies every limit (local benchmarks,
tests). A counted response carries ``X-RateLimit-Limit/-Remaining/-Reset`` (004 §9.2); over the
limit it is refused with ``Retry-After`` = seconds to the end of the window.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger("meshserve.gateway.ratelimit")


@dataclass(frozen=True)
class EndpointLimit:
    """One row of 004 §9.1."""

    name: str
    pattern: re.Pattern[str]
    authenticated: int
    unauthenticated: int
    kind: str  # "inference" or "management", for the §9.3 multipliers


ENDPOINT_LIMITS: tuple[EndpointLimit, ...] = (
    EndpointLimit("infer", re.compile(r"/api/v1/infer"), 1000, 100, "inference"),
    EndpointLimit("batch_infer", re.compile(r"/api/v1/batch_infer"), 100, 10, "inference"),
    EndpointLimit("stream_infer", re.compile(r"/api/v1/stream_infer"), 500, 50, "inference"),
    EndpointLimit("system", re.compile(r"/api/v1/system(/.*)?"), 6000, 600, "management"),
    EndpointLimit("models", re.compile(r"/api/v1/models(/.*)?"), 1000, 100, "management"),
    EndpointLimit("plugins", re.compile(r"/api/v1/plugins(/.*)?"), 500, 50, "management"),
)
PREMIUM_MULTIPLIER = {"inference": 10, "management": 5}
PREMIUM_PLANS = frozenset({"pro"})


@dataclass(frozen=True)
class Bucket:
    """A named counter with its limit per window."""

    name: str
    limit: int


@dataclass(frozen=True)
class Decision:
    """The outcome of counting one request."""

    limit: int
    remaining: int
    reset: int  # Unix seconds when the window ends
    retry_after: int
    exceeded: bool

    def headers(self) -> list[tuple[str, str]]:
        """The ``X-RateLimit-*`` headers (and ``Retry-After`` when refused)."""
        out = [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", str(self.remaining)),
            ("X-RateLimit-Reset", str(self.reset)),
        ]
        if self.exceeded:
            out += [
                ("Retry-After", str(self.retry_after)),
                ("X-RateLimit-Retry-After", str(self.retry_after)),
            ]
        return out


def buckets_for(
    plan: str, authenticated: bool, path: str, plan_limits: dict[str, int | None], scale: float = 1.0
) -> list[Bucket]:
    """The bucket a request counts against (the module's rule); empty when unlimited."""
    base = plan_limits.get(plan)
    if base is None:
        return []
    bucket = Bucket("plan", base)
    for row in ENDPOINT_LIMITS:
        if row.pattern.fullmatch(path):
            limit = row.authenticated if authenticated else row.unauthenticated
            if plan in PREMIUM_PLANS:
                limit *= PREMIUM_MULTIPLIER[row.kind]
            bucket = Bucket(row.name, limit)
            break
    if scale != 1.0:
        bucket = Bucket(bucket.name, max(1, math.ceil(bucket.limit * scale)))
    return [bucket]


class CounterUnavailable(Exception):
    """The shared counter store could not be reached."""


class Counter(Protocol):
    """Atomically increments keys that expire with their window."""

    async def hit(self, keys: list[str], ttl_seconds: int) -> list[int]:
        """New values of each key after adding one."""
        ...


class MemoryCounter:
    """Counters in this process (the embedded default)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._values: dict[str, tuple[int, float]] = {}
        self._clock = clock
        self._next_sweep = 0.0

    async def hit(self, keys: list[str], ttl_seconds: int) -> list[int]:
        """Increments in memory; expired keys are swept now and then."""
        now = self._clock()
        if now >= self._next_sweep:
            self._values = {k: v for k, v in self._values.items() if v[1] > now}
            self._next_sweep = now + 60
        out = []
        for key in keys:
            count, expires = self._values.get(key, (0, now + ttl_seconds))
            if expires <= now:
                count, expires = 0, now + ttl_seconds
            self._values[key] = (count + 1, expires)
            out.append(count + 1)
        return out


class RedisCounter:
    """Counters in Redis, shared by every gateway replica: INCR + EXPIRE NX in one transaction."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis  # only needed when Redis is configured
        from redis.exceptions import RedisError

        self.url = url
        self._errors = (RedisError, OSError)
        self._client = redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    async def hit(self, keys: list[str], ttl_seconds: int) -> list[int]:
        """Increments in Redis."""
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                for key in keys:
                    pipe.incr(key)
                    pipe.expire(key, ttl_seconds, nx=True)
                results = await pipe.execute()
        except self._errors as error:
            raise CounterUnavailable(str(error)) from error
        return [int(v) for v in results[::2]]

    async def close(self) -> None:
        """Closes the connection pool."""
        await self._client.aclose()


@dataclass(eq=False)
class RateLimiter:
    """Counts requests per subject and bucket in fixed windows."""

    counter: Counter
    window_seconds: int
    plan_limits: dict[str, int | None]
    clock: Callable[[], float] = time.time
    scale: float = 1.0
    _fallback: MemoryCounter | None = field(default=None, init=False)

    async def check(self, subject: str, plan: str, authenticated: bool, path: str) -> Decision | None:
        """Counts one request; None when the subject is unlimited."""
        buckets = buckets_for(plan, authenticated, path, self.plan_limits, self.scale)
        if not buckets:
            return None
        now = self.clock()
        index = int(now // self.window_seconds)
        reset = (index + 1) * self.window_seconds
        keys = [f"meshserve:rl:{subject}:{b.name}:{index}" for b in buckets]
        counts = await self._hit(keys)
        tightest = min(zip(buckets, counts, strict=True), key=lambda bc: bc[0].limit - bc[1])
        bucket, count = tightest
        exceeded = any(c > b.limit for b, c in zip(buckets, counts, strict=True))
        return Decision(
            limit=bucket.limit,
            remaining=max(0, bucket.limit - count),
            reset=reset,
            retry_after=max(1, math.ceil(reset - now)),
            exceeded=exceeded,
        )

    async def _hit(self, keys: list[str]) -> list[int]:
        try:
            return await self.counter.hit(keys, self.window_seconds + 5)
        except CounterUnavailable as error:
            # Redis down: keep limiting, per replica, rather than failing every request.
            log.warning("rate-limit store unreachable, counting locally: %s", error)
        if self._fallback is None:
            self._fallback = MemoryCounter(self.clock)
        return await self._fallback.hit(keys, self.window_seconds + 5)
