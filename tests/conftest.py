"""Shared fixtures: one real mesh per test session, started through the launcher on free ports."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.procs import Mesh, run_mesh
from tests.servers import postgres_server, redis_server
from tests.webhook_receiver import Receiver

#: Fixtures of tests that generate text: when any is collected, the session mesh preloads the
#: language model at start (it loads while the first tests run instead of inside the first one).
GENERATING_FIXTURES = frozenset({"llm_mesh"})


def _generates(session: pytest.Session) -> bool:
    return any(GENERATING_FIXTURES & set(getattr(item, "fixturenames", ())) for item in session.items)


@pytest.fixture(scope="session")
def mesh(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    """The whole mesh (every service and the gateway as separate processes)."""
    preload = _generates(request.session)
    with run_mesh(tmp_path_factory.mktemp("mesh"), preload_llm=preload) as running:
        yield running


@pytest.fixture(scope="session")
def llm_mesh(mesh: Mesh) -> Mesh:
    """The mesh after one generation has placed and loaded the language model on a worker."""
    reply = httpx.post(
        f"{mesh.base_url}/v1/completions",
        json={"prompt": "Hi", "max_tokens": 1, "temperature": 0},
        timeout=300,
    )
    assert reply.status_code == 200, reply.text
    return mesh


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback HTTP server recording the POSTs it gets (webhooks, job callbacks)."""
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """postgresql://… of a real PostgreSQL cluster started for this session (:mod:`tests.servers`)."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """redis://… of a real redis-server started for this session."""
    with redis_server() as url:
        yield url


@pytest.fixture
async def redis_db(redis_url: str) -> str:
    """The session's Redis, emptied for this test."""
    import redis.asyncio as redis

    client = redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
    return redis_url
