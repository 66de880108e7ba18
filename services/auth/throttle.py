"""Login throttling: repeated failures lock an account, and a client address, for a while.

In memory: one auth process is the source of truth, and a restart forgetting failures is harmless
next to the locks it already put in the audit log. No transport imports.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from services.common.errors import RateLimitExceeded


class LoginThrottle:
    """Counts failures per account and per address in a sliding window."""

    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        lock_seconds: float,
        address_max_failures: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.lock_seconds = lock_seconds
        self.address_max = address_max_failures
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    def check(self, login: str, address: str) -> None:
        """Raises :class:`RateLimitExceeded` while the account or the address is locked."""
        now = self._clock()
        for key in (_account(login), _address(address)):
            until = self._locked_until.get(key, 0.0)
            if until > now:
                raise RateLimitExceeded(
                    "too many failed logins: try again later",
                    details={"locked": key.split(":", 1)[0]},
                    retry_after=max(1, math.ceil(until - now)),
                    suggestion="wait for the lock to expire",
                )

    def failure(self, login: str, address: str) -> list[str]:
        """Records a failure; returns what got locked by it ("account", "address")."""
        locked = []
        limits = ((_account(login), self.max_failures), (_address(address), self.address_max))
        for key, limit in limits:
            if key.endswith(":") or limit <= 0:
                continue
            if self._add(key) >= limit:
                self._locked_until[key] = self._clock() + self.lock_seconds
                self._failures.pop(key, None)
                locked.append(key.split(":", 1)[0])
        return locked

    def success(self, login: str) -> None:
        """A good login clears the account's failures."""
        self._failures.pop(_account(login), None)

    def _add(self, key: str) -> int:
        now = self._clock()
        window = self._failures.setdefault(key, deque())
        window.append(now)
        while window and window[0] < now - self.window:
            window.popleft()
        return len(window)


def _account(login: str) -> str:
    return f"account:{login.strip().lower()}"


def _address(address: str) -> str:
    return f"address:{address}"
