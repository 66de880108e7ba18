"""The gateway's API-key look-ups under concurrency: requests that find a key's cached look-up
missing or expired at the same moment share one ``Authenticate`` call, and a key revoked while that
call runs is still refused (an auth service served in-process on a real socket, answering slowly
enough that the requests overlap)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from gateway.security.authenticator import Authenticator, RevokedSet
from gateway.security.state import principal_from_proto
from meshserve.v1 import auth_pb2 as pb
from meshserve.v1 import auth_pb2_grpc as pb_grpc
from services.auth.jwt_codec import JwtCodec
from services.auth.principal import Principal
from services.common.errors import AuthenticationFailed
from tests.grpc_servers import start_servicer

KEY = "msk_k1_0123456789abcdef"
REQUESTS = 32


class SlowAuth(pb_grpc.AuthServiceServicer):
    """Answers ``Authenticate`` for key k1 after a pause, counting the calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def Authenticate(self, request: pb.AuthenticateRequest, context: Any) -> pb.AuthenticateResponse:
        self.calls += 1
        await asyncio.sleep(0.2)
        principal = pb.Principal(
            user_id="u1", username="ada", role=pb.ROLE_WRITE, plan=pb.PLAN_PRO,
            credential_type="api_key", api_key_id="k1",
        )  # fmt: skip
        return pb.AuthenticateResponse(principal=principal)


@pytest.fixture
async def auth() -> AsyncIterator[tuple[SlowAuth, Authenticator]]:
    servicer = SlowAuth()
    server, port = await start_servicer(pb_grpc.add_AuthServiceServicer_to_server, servicer)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    stub = pb_grpc.AuthServiceStub(channel)

    async def resolve_key(credential: str) -> Principal:
        reply = await stub.Authenticate(pb.AuthenticateRequest(credential=credential), timeout=5)
        return principal_from_proto(reply.principal)

    codec = JwtCodec("s" * 32, "meshserve", "meshserve")
    yield servicer, Authenticator(codec, resolve_key, key_ttl=0.5, revoked=RevokedSet())
    await channel.close()
    await server.stop(None)


async def test_concurrent_requests_with_one_key_share_one_call_and_one_more_after_expiry(
    auth: tuple[SlowAuth, Authenticator],
) -> None:
    servicer, authenticator = auth
    first = await asyncio.gather(*(authenticator.resolve(KEY) for _ in range(REQUESTS)))
    assert servicer.calls == 1
    assert {(p.user_id, p.role, p.plan, p.api_key_id) for p in first} == {("u1", "write", "pro", "k1")}
    await authenticator.resolve(KEY)  # cached
    assert servicer.calls == 1
    await asyncio.sleep(0.6)  # past the key cache's lifetime
    await asyncio.gather(*(authenticator.resolve(KEY) for _ in range(REQUESTS)))
    assert servicer.calls == 2


async def test_a_key_revoked_while_its_lookup_runs_is_refused_to_every_waiting_request(
    auth: tuple[SlowAuth, Authenticator],
) -> None:
    servicer, authenticator = auth
    waiting = [asyncio.ensure_future(authenticator.resolve(KEY)) for _ in range(REQUESTS)]
    await asyncio.sleep(0.05)
    authenticator.drop_key("k1")  # the revocation poller saw it
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert servicer.calls == 1
    assert all(isinstance(o, AuthenticationFailed) and "revoked" in o.message for o in outcomes), outcomes
