"""Consul discovery against Consul's documented agent and health HTTP API (a stand-in agent in the test)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from services.common.clients import ChannelPool
from services.common.discovery import ConsulDiscovery, DiscoverySettings, Instance
from services.common.settings import MeshEndpoints
from tests.deploy.fake_consul import FakeConsul
from tests.deploy.grpc_health_servers import answers_for, health_server
from tests.procs import free_port, start_service

pytestmark = pytest.mark.contract


@pytest.fixture
def consul() -> Iterator[FakeConsul]:
    """A stand-in Consul agent on a free port."""
    with FakeConsul() as agent:
        yield agent


def settings_for(agent: FakeConsul, **overrides: object) -> DiscoverySettings:
    """Discovery settings pointing at the stand-in agent."""
    return DiscoverySettings(
        discovery="consul", consul_url=agent.url, advertise_address="127.0.0.1", **overrides
    )


def unreachable_endpoints() -> MeshEndpoints:
    """Static addresses nobody listens on: a call that works went through Consul."""
    dead = f"127.0.0.1:{free_port()}"
    return MeshEndpoints(auth_address=dead, registry_address=dead)


@pytest.mark.integration
async def test_service_registers_with_grpc_check_resolves_and_deregisters_on_sigterm(consul, tmp_path):
    proc = start_service(
        "auth",
        tmp_path,
        env={
            "MESHSERVE_DISCOVERY": "consul",
            "MESHSERVE_CONSUL_URL": consul.url,
            "MESHSERVE_ADVERTISE_ADDRESS": "127.0.0.1",
            "MESHSERVE_CONSUL_CHECK_INTERVAL": "5s",
        },
    )
    try:
        # Registration happens before the ready line: one documented service definition.
        (register,) = consul.requests("PUT", "/v1/agent/service/register")
        body = register.body
        assert body["Name"] == "meshserve-auth"
        assert body["ID"] == f"meshserve-auth-127.0.0.1-{proc.port}"
        assert (body["Address"], body["Port"]) == ("127.0.0.1", proc.port)
        check = body["Check"]
        assert check["GRPC"] == f"127.0.0.1:{proc.port}" and check["GRPCUseTLS"] is False
        assert check["Interval"] == "5s" and check["Timeout"] == "2s"
        assert check["DeregisterCriticalServiceAfter"] == "1m"
        # Like Consul, the new check starts critical: nothing resolves until the check has passed.
        discovery = ConsulDiscovery(settings_for(consul), unreachable_endpoints())
        pool = ChannelPool(discovery.endpoints, discovery)
        try:
            assert await discovery.resolve("auth") == []
            # The agent runs the registered gRPC check against the real process: it passes.
            assert consul.run_grpc_checks() == {body["ID"]: "passing"}
            instances = await discovery.wait_until("auth", lambda found: len(found) == 1)
            assert instances == [Instance("127.0.0.1", proc.port, body["ID"])]
            # A client call goes to the instance Consul reported (the static address is dead).
            assert await answers_for(pool.channel("auth"), "")
        finally:
            await pool.close()
        assert proc.terminate() == 0
        (deregister,) = consul.requests("PUT", "/v1/agent/service/deregister/")
        assert deregister.path == f"/v1/agent/service/deregister/{body['ID']}"
        assert consul.state.services == {}
    finally:
        proc.terminate()


async def test_resolution_skips_critical_instances_and_clients_follow(consul):
    async with health_server("a") as port_a, health_server("b") as port_b:
        announcers = [ConsulDiscovery(settings_for(consul)) for _ in range(2)]
        await announcers[0].register("registry", "0.0.0.0", port_a)
        await announcers[1].register("registry", "0.0.0.0", port_b)
        id_a, id_b = announcers[0].registered_id, announcers[1].registered_id
        consul.set_status(id_a, "passing")
        consul.set_status(id_b, "critical")

        discovery = ConsulDiscovery(settings_for(consul), unreachable_endpoints())
        pool = ChannelPool(discovery.endpoints, discovery)
        try:
            found = await discovery.wait_until("registry", lambda found: len(found) == 1)
            assert [i.port for i in found] == [port_a]
            channel = pool.channel("registry")
            assert await answers_for(channel, "a")

            # a turns critical, b passes: the blocking query wakes and the cache follows.
            consul.set_status(id_b, "passing")
            consul.set_status(id_a, "critical")
            found = await discovery.wait_until("registry", lambda found: [i.port for i in found] == [port_b])
            assert found[0].id == id_b
            assert await answers_for(channel, "b")
            assert not await answers_for(channel, "a")

            # Every query after the first blocked on the index Consul had returned, with a wait.
            queries = consul.requests("GET", "/v1/health/service/meshserve-registry")
            assert "index" not in queries[0].query
            assert all("passing" in q.query for q in queries)
            blocking = queries[1:]
            assert blocking and all(
                q.query["wait"] == ["30s"] and int(q.query["index"][0]) > 0 for q in blocking
            )
        finally:
            await pool.close()
            for announcer in announcers:
                await announcer.deregister()
                await announcer.close()
        assert consul.state.services == {}


async def test_resolve_serves_the_cache_between_changes(consul):
    announcer = ConsulDiscovery(settings_for(consul))
    await announcer.register("speech", "127.0.0.1", 61000)
    consul.set_status(announcer.registered_id, "passing")
    discovery = ConsulDiscovery(settings_for(consul))
    try:
        for _ in range(20):
            assert [i.port for i in await discovery.resolve("speech")] == [61000]
        # Twenty look-ups, one watch: the initial query plus at most one blocking query in flight.
        assert len(consul.requests("GET", "/v1/health/service/meshserve-speech")) <= 2
        assert discovery.target("speech") == "127.0.0.1:61000"
    finally:
        await announcer.close()
        await discovery.close()


async def test_index_going_backwards_restarts_the_watch(consul):
    announcer = ConsulDiscovery(settings_for(consul))
    await announcer.register("autoscaler", "127.0.0.1", 61001)
    consul.set_status(announcer.registered_id, "passing")
    discovery = ConsulDiscovery(settings_for(consul, consul_wait_seconds=0.3))
    try:
        await discovery.resolve("autoscaler")
        high = consul.state.index
        consul.reset_index(3)  # e.g. the agent was rebuilt from a snapshot
        path = "/v1/health/service/meshserve-autoscaler"
        # The blocked query times out with index 3 < high: the next query starts again without an index.
        await discovery.wait_until("autoscaler", lambda _: len(consul.requests("GET", path)) >= 3, timeout=10)
        indexes = [q.query.get("index", ["0"])[0] for q in consul.requests("GET", path)]
        assert str(high) in indexes
        assert "0" in indexes[indexes.index(str(high)) :]
    finally:
        await announcer.close()
        await discovery.close()


async def test_registration_without_agent_fails_clearly():
    discovery = ConsulDiscovery(
        DiscoverySettings(
            discovery="consul",
            consul_url=f"http://127.0.0.1:{free_port()}",
            consul_register_timeout_seconds=0.5,
        )
    )
    try:
        with pytest.raises(
            RuntimeError, match=re.escape("Consul registration of meshserve-auth-127.0.0.1-50051 failed")
        ):
            await discovery.register("auth", "127.0.0.1", 50051)
    finally:
        await discovery.close()
