"""The inference service's registry look-ups under concurrency: predictions that find a model's
entry missing or expired at the same moment share one ``GetModel`` call (a registry served
in-process on a real socket, answering slowly enough that the callers overlap)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import registry_pb2 as rpb
from meshserve.v1 import registry_pb2_grpc as rpb_grpc
from services.common.clients import ChannelPool
from services.common.context import deadline_var
from services.common.errors import MeshError
from services.common.settings import MeshEndpoints
from services.inference.catalog import CatalogEntry, RegistryCatalog
from tests.grpc_servers import start_servicer

CALLERS = 32


class SlowRegistry(rpb_grpc.RegistryServiceServicer):
    """Answers ``GetModel`` after a pause, counting the calls; ``missing`` names answer NOT_FOUND."""

    def __init__(self) -> None:
        self.calls = 0
        self.version = "1"
        self.missing: set[str] = set()
        #: Seconds each call waits before it answers, the first call's first.
        self.pauses: list[float] = []

    async def GetModel(self, request: rpb.GetModelRequest, context: Any) -> rpb.GetModelResponse:
        self.calls += 1
        version = self.version  # as the registry stood when the call came
        await asyncio.sleep(self.pauses.pop(0) if self.pauses else 0.2)
        if request.ref.name in self.missing:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no model {request.ref.name}")
        model = common.Model(
            id="m-1", name=request.ref.name, version=version, format=common.MODEL_FORMAT_ONNX
        )
        return rpb.GetModelResponse(model=model)


@pytest.fixture
async def registry() -> AsyncIterator[tuple[SlowRegistry, int]]:
    servicer = SlowRegistry()
    server, port = await start_servicer(rpb_grpc.add_RegistryServiceServicer_to_server, servicer)
    yield servicer, port
    await server.stop(None)


@pytest.fixture
async def catalog(registry: tuple[SlowRegistry, int], tmp_path: Path) -> AsyncIterator[RegistryCatalog]:
    pool = ChannelPool(MeshEndpoints(registry_address=f"127.0.0.1:{registry[1]}"))
    yield RegistryCatalog(pool, tmp_path, ttl=0.5)
    await pool.close()


async def test_concurrent_lookups_share_one_call_and_one_more_after_expiry(
    registry: tuple[SlowRegistry, int], catalog: RegistryCatalog
) -> None:
    servicer, _ = registry
    first = await asyncio.gather(*(catalog.resolve("mlp") for _ in range(CALLERS)))
    assert servicer.calls == 1
    assert {entry.key for entry in first} == {"mlp@1"}
    assert await catalog.resolve("mlp") is first[0]  # fresh: from the cache, no call
    assert servicer.calls == 1

    servicer.version = "2"
    await asyncio.sleep(0.6)  # past the ttl
    second = await asyncio.gather(*(catalog.resolve("mlp") for _ in range(CALLERS)))
    assert servicer.calls == 2
    assert {entry.key for entry in second} == {"mlp@2"}


async def test_the_shared_lookup_is_not_held_to_the_first_callers_deadline(
    registry: tuple[SlowRegistry, int], catalog: RegistryCatalog
) -> None:
    servicer, _ = registry

    async def in_a_hurry() -> CatalogEntry:
        deadline_var.set(time.monotonic() + 0.05)  # its own request has 50 ms left; the registry takes 200
        return await catalog.resolve("mlp")

    hurried = asyncio.ensure_future(in_a_hurry())
    await asyncio.sleep(0.01)
    patient = await catalog.resolve("mlp")  # no deadline of its own
    assert patient.key == "mlp@1"
    assert (await hurried).key == "mlp@1"
    assert servicer.calls == 1


async def test_a_caller_that_leaves_does_not_cancel_the_shared_lookup(
    registry: tuple[SlowRegistry, int], catalog: RegistryCatalog
) -> None:
    servicer, _ = registry
    leaving = asyncio.ensure_future(catalog.resolve("mlp"))
    staying = asyncio.ensure_future(catalog.resolve("mlp"))
    await asyncio.sleep(0.05)
    leaving.cancel()
    assert (await staying).key == "mlp@1"
    assert leaving.cancelled()
    assert servicer.calls == 1


async def test_a_failed_lookup_fails_every_caller_once_and_is_not_cached(
    registry: tuple[SlowRegistry, int], catalog: RegistryCatalog
) -> None:
    servicer, _ = registry
    servicer.missing.add("ghost")
    outcomes = await asyncio.gather(
        *(catalog.resolve("ghost") for _ in range(CALLERS)), return_exceptions=True
    )
    assert servicer.calls == 1
    assert all(isinstance(o, MeshError) and o.grpc_code == grpc.StatusCode.NOT_FOUND for o in outcomes), (
        outcomes
    )
    servicer.missing.clear()
    assert (await catalog.resolve("ghost")).key == "ghost@1"  # asked again, not a cached failure
    assert servicer.calls == 2


async def test_forget_during_a_lookup_keeps_its_answer_out_of_the_cache(
    registry: tuple[SlowRegistry, int], catalog: RegistryCatalog
) -> None:
    servicer, _ = registry
    servicer.pauses = [0.4, 0.1]  # the look-up sent before forget answers last
    before = asyncio.ensure_future(catalog.resolve("mlp"))
    await asyncio.sleep(0.05)
    catalog.forget()  # a load or unload happened while the look-up was in flight
    servicer.version = "2"
    after = await catalog.resolve("mlp")  # a look-up of its own, not the one sent before forget
    assert (await before).key == "mlp@1"
    assert after.key == "mlp@2"
    assert servicer.calls == 2
    assert (await catalog.resolve("mlp")).key == "mlp@2"  # the later answer is what stays cached
    assert servicer.calls == 2
