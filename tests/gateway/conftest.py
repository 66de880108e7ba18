"""The gateway tests' in-process apps (``create_app()``, which reads the environment) run without
rate limits, like every gateway the tests start (:data:`tests.procs.RATE_LIMITS_OFF`): none of these
tests checks them (``tests/auth/test_rate_limit_defaults.py`` does)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.app import create_app
from tests.procs import RATE_LIMITS_OFF


@pytest.fixture(autouse=True)
def _no_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in RATE_LIMITS_OFF.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """An in-process gateway (lifespan run) behind an httpx client: no sockets, no mesh."""
    app = create_app()
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as http:
            yield http
