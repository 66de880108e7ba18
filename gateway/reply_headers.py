"""Headers an endpoint learns about while it works (a tenant's remaining tokens), added to its
response by the security middleware when the response starts.

The middleware gives each request a fresh list; endpoints append to it. A list held in a context
variable is shared with any task the endpoint's framework starts, unlike a value set later.
"""

from __future__ import annotations

import contextvars

_reply_headers: contextvars.ContextVar[list[tuple[str, str]] | None] = contextvars.ContextVar(
    "reply_headers", default=None
)


def collect_reply_headers() -> list[tuple[str, str]]:
    """A fresh list for the current request's extra headers (called by the middleware)."""
    headers: list[tuple[str, str]] = []
    _reply_headers.set(headers)
    return headers


def add_reply_header(name: str, value: str) -> None:
    """Adds a header to the current request's response (ignored outside a request)."""
    headers = _reply_headers.get()
    if headers is not None:
        headers.append((name, value))
