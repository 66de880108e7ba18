"""Fixtures of the auth tests: one auth process and one locked-down gateway per session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.security import SecuritySettings, SecurityState
from services.common import internal_auth
from tests.auth.harness import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    Secrets,
    gateway_app,
    new_secrets,
    serve,
    start_auth,
)
from tests.procs import ServiceProc


@dataclass
class Stack:
    """The auth process, the gateway's URL and its security state."""

    auth: ServiceProc
    keys: Secrets
    url: str
    security: SecurityState
    db_path: Path

    def client(self, **headers: str) -> httpx.AsyncClient:
        """An HTTP client of the gateway."""
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture(scope="session")
def auth_keys() -> Secrets:
    """The session's secrets."""
    return new_secrets()


@pytest.fixture(scope="session")
def auth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The auth service's data directory."""
    return tmp_path_factory.mktemp("auth")


@pytest.fixture(scope="session")
def auth_proc(auth_dir: Path, auth_keys: Secrets) -> Iterator[ServiceProc]:
    """The auth service (auth on, admin bootstrapped, a short lock for the lock test)."""
    proc = start_auth(auth_dir, auth_keys, MESHSERVE_AUTH_LOGIN_LOCK_SECONDS="120")
    yield proc
    proc.terminate()


@pytest.fixture(scope="session")
async def stack(auth_proc: ServiceProc, auth_keys: Secrets, auth_dir: Path) -> AsyncIterator[Stack]:
    """A gateway with ENABLE_AUTH=true in front of the auth process, without rate limits (the
    session's tests all call from one address); ``limited`` has them."""
    settings = SecuritySettings(
        enable_auth=True,
        rate_limits=False,
        jwt_secret=auth_keys.jwt_secret,
        internal_token=auth_keys.internal_token,
        revocation_poll_seconds=0.2,
        audit_flush_seconds=0.2,
    )
    app = gateway_app(auth_proc.address, settings)
    async with serve(app) as url:
        yield Stack(auth_proc, auth_keys, url, app.state.security, auth_dir / "auth.db")


@pytest.fixture(autouse=True)
def stack_internal_token(request: pytest.FixtureRequest) -> None:
    """Puts the stack's internal token back before each of its tests.

    A gateway's internal token is process-wide (one gateway per process outside tests). In-process
    gateways of other test files, run in between in the same worker, replace it: the stack's calls
    into the auth service would then lack the token and be refused."""
    if "stack" in request.fixturenames:
        use_internal_token(request.getfixturevalue("auth_keys"))


def use_internal_token(keys: Secrets) -> None:
    """Makes the session's internal token the process's again (see :func:`stack_internal_token`)."""
    internal_auth.configure(
        internal_auth.InternalAuthSettings(enable_auth=True, internal_token=keys.internal_token)
    )


@pytest.fixture(scope="module")
async def admin_token(stack: Stack) -> str:
    """An access token of the bootstrap admin, one login per test file: access tokens live 15
    minutes, and the files of one pytest-xdist worker can be further apart than that."""
    use_internal_token(stack.keys)  # set up before any test's stack_internal_token
    async with stack.client() as http:
        reply = await http.post("/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["access_token"])


@pytest.fixture(scope="module")
async def limited(stack: Stack) -> AsyncIterator[Stack]:
    """Another gateway in front of the same auth process, with the default rate limits (fresh
    counters for each module that uses it)."""
    settings = SecuritySettings(
        enable_auth=True,
        jwt_secret=stack.keys.jwt_secret,
        internal_token=stack.keys.internal_token,
        revocation_poll_seconds=0.2,
        audit_flush_seconds=0.2,
        rate_limits=True,
        rate_limit_scale=1.0,
        rate_limit_window_seconds=3600,
    )
    app = gateway_app(stack.auth.address, settings)
    async with serve(app) as url:
        yield Stack(stack.auth, stack.keys, url, app.state.security, stack.db_path)
