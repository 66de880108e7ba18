"""Security at the edge: authentication, the permission table, rate limits and the audit trail.

:func:`install_security` adds one pure-ASGI middleware that applies to every route, present or
future; its state (settings, caches, counters, background tasks) lives in ``app.state.security``.
"""

from __future__ import annotations

from fastapi import FastAPI

from gateway.security.middleware import SecurityMiddleware
from gateway.security.settings import SecuritySettings
from gateway.security.state import SecurityState


def install_security(app: FastAPI, settings: SecuritySettings | None = None) -> SecurityState:
    """Adds the security middleware; add it before the request-id middleware so ids are set first."""
    state = SecurityState(settings or SecuritySettings())
    app.state.security = state
    app.add_middleware(SecurityMiddleware)
    return state


__all__ = ["SecuritySettings", "SecurityState", "install_security"]
