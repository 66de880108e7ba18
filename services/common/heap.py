"""Keeps the garbage collector off what a process built at start-up.

A process's start-up leaves hundreds of thousands of long-lived objects: modules, the gateway's
routes and pydantic models, protobuf descriptors. CPython's full (generation 2) collection walks
all of them, and under load it runs every few thousand requests: in the gateway at 32 concurrent
predictions one took about 100 ms, about once per 1,500 requests, and every request in flight
waited for it (p99 88 to 131 ms against a p50 of about 20 ms).

``gc.freeze()`` (the standard library's answer for exactly this; see its documentation) moves
everything alive at that moment out of the collector's view, so later collections walk only what
the process allocated since. With it, the same cells' p99 read 47 to 56 ms.

The price: a frozen object that later becomes part of unreachable cycles is never reclaimed. What
is alive when a service turns ready (modules, the app, its settings and clients) lives as long as
the process anyway.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collects the start-up's garbage once, then freezes what is left; returns how many objects
    were frozen. Call it when the process is ready to serve, before the first request."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
