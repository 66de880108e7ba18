"""Login throttling: repeated failures lock an account, and a client address, for a while.

The counts live behind :class:`Failures`: in this process (one auth replica), or in Redis
(``REDIS_URL``), where every auth replica sees the same failures and the same locks, so spreading
guesses over replicas gains nothing. A lock is a key that expires by itself; failures are a sorted
set of times trimmed to the window. No transport imports.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from services.common.errors import RateLimitExceeded


class Failures(Protocol):
    """Where failures and locks are counted."""

    def locked_for(self, key: str) -> float:
        """Seconds the key stays locked (0 when it is not)."""
        ...

    def add(self, key: str, window: float) -> int:
        """Records a failure now; the failures within the last ``window`` seconds."""
        ...

    def lock(self, key: str, seconds: float) -> None:
        """Locks the key and forgets its failures."""
        ...

    def clear(self, key: str) -> None:
        """Forgets the key's failures."""
        ...


class MemoryFailures:
    """Failures in this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    def locked_for(self, key: str) -> float:
        return max(0.0, self._locked_until.get(key, 0.0) - self._clock())

    def add(self, key: str, window: float) -> int:
        now = self._clock()
        times = self._failures.setdefault(key, deque())
        times.append(now)
        while times and times[0] < now - window:
            times.popleft()
        return len(times)

    def lock(self, key: str, seconds: float) -> None:
        self._locked_until[key] = self._clock() + seconds
        self._failures.pop(key, None)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)


class RedisFailures:
    """Failures in Redis, shared by every auth replica."""

    PREFIX = "meshserve:login:"

    def __init__(self, url: str) -> None:
        import redis

        self._client: Any = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    def locked_for(self, key: str) -> float:
        remaining = self._client.pttl(f"{self.PREFIX}lock:{key}")
        return remaining / 1000 if remaining and remaining > 0 else 0.0

    def add(self, key: str, window: float) -> int:
        now = time.time()
        name = f"{self.PREFIX}fail:{key}"
        with self._client.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {uuid.uuid4().hex: now})
            pipe.zremrangebyscore(name, "-inf", now - window)
            pipe.zcard(name)
            pipe.expire(name, max(1, math.ceil(window)))
            _, _, count, _ = pipe.execute()
        return int(count)

    def lock(self, key: str, seconds: float) -> None:
        with self._client.pipeline(transaction=True) as pipe:
            pipe.set(f"{self.PREFIX}lock:{key}", 1, px=max(1, int(seconds * 1000)))
            pipe.delete(f"{self.PREFIX}fail:{key}")
            pipe.execute()

    def clear(self, key: str) -> None:
        self._client.delete(f"{self.PREFIX}fail:{key}")


class LoginThrottle:
    """Counts failures per account and per address in a sliding window."""

    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        lock_seconds: float,
        address_max_failures: int,
        clock: Callable[[], float] = time.monotonic,
        failures: Failures | None = None,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.lock_seconds = lock_seconds
        self.address_max = address_max_failures
        self.failures: Failures = failures or MemoryFailures(clock)

    def check(self, login: str, address: str) -> None:
        """Raises :class:`RateLimitExceeded` while the account or the address is locked."""
        for key in (_account(login), _address(address)):
            remaining = self.failures.locked_for(key)
            if remaining > 0:
                raise RateLimitExceeded(
                    "too many failed logins: try again later",
                    details={"locked": key.split(":", 1)[0]},
                    retry_after=max(1, math.ceil(remaining)),
                    suggestion="wait for the lock to expire",
                )

    def failure(self, login: str, address: str) -> list[str]:
        """Records a failure; returns what got locked by it ("account", "address")."""
        locked = []
        limits = ((_account(login), self.max_failures), (_address(address), self.address_max))
        for key, limit in limits:
            if key.endswith(":") or limit <= 0:
                continue
            if self.failures.add(key, self.window) >= limit:
                self.failures.lock(key, self.lock_seconds)
                locked.append(key.split(":", 1)[0])
        return locked

    def success(self, login: str) -> None:
        """A good login clears the account's failures."""
        self.failures.clear(_account(login))


def _account(login: str) -> str:
    return f"account:{login.strip().lower()}"


def _address(address: str) -> str:
    return f"address:{address}"
