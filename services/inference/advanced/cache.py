"""The response cache of deterministic generations: entries are stored by prefetches only, and
served to later requests identical to the prefetched one.

Only greedy (temperature 0) or seeded requests are cached: they are the ones whose output is a
function of the request, so serving a stored answer changes nothing but the time it takes. The key
is the resolved model (id and weights revision) plus the validated request (after preprocessing
plugins), less its request id and model alias; any other difference (a parameter, a stop sequence) is another key. Entries
expire after their TTL; past ``capacity`` the least recently used go first. No transport imports.

Two implementations with one async interface: :class:`ResponseCache` in the process (one replica),
and :class:`~services.inference.advanced.shared_cache.RedisResponseCache` shared by every replica.
The counters are each replica's own.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from services.inference.llm.chunks import Chunk

#: Entries kept at most (each holds one completion's text).
DEFAULT_CAPACITY = 1024
#: TTL when a prefetch sets none, and the longest accepted, in seconds.
DEFAULT_TTL_SECONDS = 3600.0
MAX_TTL_SECONDS = 7 * 24 * 3600.0


def cache_key(model_id: str, revision: str, request_bytes: bytes) -> str:
    """The key of a request already stripped of its request id and model alias."""
    digest = hashlib.sha256()
    for part in (model_id.encode(), b"\0", revision.encode(), b"\0", request_bytes):
        digest.update(part)
    return digest.hexdigest()


@dataclass
class CachedCompletion:
    """One stored generation: its chunks as they streamed (every choice, with their final figures)."""

    chunks: list[Chunk]
    expires_at: float
    stored_at: float = field(default_factory=time.time)


@dataclass
class CacheCounters:
    """What the cache did since the service started (prefetches are not counted as lookups)."""

    hits: int = 0
    misses: int = 0
    bypassed: int = 0
    stored: int = 0
    evicted: int = 0

    @property
    def hit_rate(self) -> float | None:
        """Hits over every generation the cache saw; None before the first."""
        seen = self.hits + self.misses + self.bypassed
        return self.hits / seen if seen else None


class Cache(Protocol):
    """What the generation pipeline needs of a response cache (in process or shared)."""

    capacity: int
    counters: CacheCounters

    async def get(self, key: str) -> CachedCompletion | None:
        """The live entry under ``key``, or None."""
        ...

    async def renew(self, key: str, entry: CachedCompletion, expires_at: float) -> None:
        """Moves an entry's expiry."""
        ...

    async def put(self, key: str, entry: CachedCompletion) -> None:
        """Stores an entry."""
        ...

    async def entries(self) -> int:
        """Live entries now."""
        ...

    async def close(self) -> None:
        """Releases connections."""
        ...


class ResponseCache:
    """Keyed completions with per-entry expiry and LRU eviction."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, clock: Callable[[], float] = time.time) -> None:
        self.capacity = capacity
        self.clock = clock
        self.counters = CacheCounters()
        self._entries: OrderedDict[str, CachedCompletion] = OrderedDict()

    async def get(self, key: str) -> CachedCompletion | None:
        """The live entry under ``key`` (marked recently used), or None; expired entries are dropped."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self.clock():
            del self._entries[key]
            self.counters.evicted += 1
            return None
        self._entries.move_to_end(key)
        return entry

    async def renew(self, key: str, entry: CachedCompletion, expires_at: float) -> None:
        """Moves an entry's expiry (a repeated prefetch)."""
        entry.expires_at = expires_at

    async def put(self, key: str, entry: CachedCompletion) -> None:
        """Stores (or replaces) an entry, evicting the least recently used beyond capacity."""
        self._entries[key] = entry
        self._entries.move_to_end(key)
        self.counters.stored += 1
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
            self.counters.evicted += 1

    async def entries(self) -> int:
        """Live entries now (expired ones are purged first)."""
        now = self.clock()
        for key in [k for k, e in self._entries.items() if e.expires_at <= now]:
            del self._entries[key]
            self.counters.evicted += 1
        return len(self._entries)

    async def close(self) -> None:
        """Nothing to release in process."""
