"""Discovery selection, the static default and Kubernetes DNS discovery."""

from __future__ import annotations

import json

import pytest

from services.common.clients import ChannelPool
from services.common.discovery import (
    ConsulDiscovery,
    DiscoverySettings,
    Instance,
    KubernetesDnsDiscovery,
    StaticDiscovery,
    discovery_from_env,
    grpc_target,
)
from services.common.discovery import kubernetes as discovery_module
from services.common.settings import MeshEndpoints
from tests.deploy.grpc_health_servers import answers_for, health_server


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (None, StaticDiscovery),
        ("static", StaticDiscovery),
        ("consul", ConsulDiscovery),
        ("kubernetes", KubernetesDnsDiscovery),
    ],
)
async def test_backend_is_chosen_by_configuration(monkeypatch, value, kind):
    monkeypatch.delenv("MESHSERVE_DISCOVERY", raising=False)
    if value is not None:
        monkeypatch.setenv("MESHSERVE_DISCOVERY", value)
    chosen = discovery_from_env()
    try:
        assert type(chosen) is kind
    finally:
        await chosen.close()


def test_unknown_backend_is_refused(monkeypatch):
    monkeypatch.setenv("MESHSERVE_DISCOVERY", "zookeeper")
    with pytest.raises(ValueError, match="discovery"):
        discovery_from_env()


async def test_static_default_dials_the_configured_address_unchanged(monkeypatch):
    monkeypatch.delenv("MESHSERVE_DISCOVERY", raising=False)
    async with health_server("static") as port:
        pool = ChannelPool(MeshEndpoints(auth_address=f"127.0.0.1:{port}"))
        try:
            assert isinstance(pool.discovery, StaticDiscovery)
            assert pool.discovery.target("auth") == f"127.0.0.1:{port}"
            assert await pool.discovery.resolve("auth") == [Instance("127.0.0.1", port)]
            # Channels are keyed by address, as before discovery existed.
            assert set(pool._channels) == set()
            assert await answers_for(pool.channel("auth"), "static")
            assert set(pool._channels) == {f"127.0.0.1:{port}"}
        finally:
            await pool.close()


def k8s(namespace: str = "meshserve", **kwargs: object) -> KubernetesDnsDiscovery:
    """Kubernetes discovery with explicit settings."""
    settings = DiscoverySettings(discovery="kubernetes", kubernetes_namespace=namespace, **kwargs)
    return KubernetesDnsDiscovery(settings, MeshEndpoints(inference_address="inference:50153"))


def test_kubernetes_target_is_the_headless_service_dns_name_with_round_robin():
    discovery = k8s()
    assert discovery.target("auth") == "dns:///auth.meshserve.svc.cluster.local:50051"
    # The port follows the configured address, so a non-default port carries over.
    assert discovery.target("inference") == "dns:///inference.meshserve.svc.cluster.local:50153"
    (option,) = discovery.channel_options("auth")
    assert option[0] == "grpc.service_config"
    # Every pod behind the name, each only while its grpc.health.v1 status is SERVING.
    assert json.loads(option[1]) == {
        "loadBalancingConfig": [{"round_robin": {}}],
        "healthCheckConfig": {"serviceName": ""},
    }
    assert not discovery.dynamic  # gRPC's DNS resolver follows the pods; the channel never changes


def test_kubernetes_cluster_domain_and_template_are_configurable():
    discovery = k8s(
        "prod",
        kubernetes_cluster_domain="corp.example",
        kubernetes_host_template="{service}-grpc.{namespace}.svc.{cluster_domain}",
    )
    assert discovery.target("speech") == "dns:///speech-grpc.prod.svc.corp.example:50054"


def test_kubernetes_namespace_defaults_to_the_pods_own(tmp_path, monkeypatch):
    namespace_file = tmp_path / "namespace"
    namespace_file.write_text("team-a\n")
    monkeypatch.setattr(discovery_module, "POD_NAMESPACE_FILE", namespace_file)
    assert k8s(namespace="").host_of("registry") == "registry.team-a.svc.cluster.local"
    monkeypatch.setattr(discovery_module, "POD_NAMESPACE_FILE", tmp_path / "missing")
    assert k8s(namespace="").host_of("registry") == "registry.default.svc.cluster.local"


async def test_kubernetes_resolve_lists_every_pod_address():
    asked = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["10.1.0.7", "10.1.3.2"]

    settings = DiscoverySettings(discovery="kubernetes", kubernetes_namespace="ns")
    discovery = KubernetesDnsDiscovery(settings, MeshEndpoints(), resolver=resolver)
    assert await discovery.resolve("speech") == [Instance("10.1.0.7", 50054), Instance("10.1.3.2", 50054)]
    assert asked == [("speech.ns.svc.cluster.local", 50054)]


async def test_kubernetes_channel_dials_through_grpc_dns_resolution():
    # "localhost" stands in for the cluster name: a real DNS look-up by gRPC's resolver, a real call.
    async with health_server("k8s") as port:
        settings = DiscoverySettings(discovery="kubernetes", kubernetes_host_template="localhost")
        discovery = KubernetesDnsDiscovery(settings, MeshEndpoints(auth_address=f"auth:{port}"))
        pool = ChannelPool(discovery.endpoints, discovery)
        try:
            assert discovery.target("auth") == f"dns:///localhost:{port}"
            assert "127.0.0.1" in [i.host for i in await discovery.resolve("auth")]
            assert await answers_for(pool.channel("auth"), "k8s")
        finally:
            await pool.close()


def test_grpc_target_lists_several_instances_for_client_side_balancing():
    assert grpc_target([Instance("10.0.0.1", 1)]) == "10.0.0.1:1"
    assert grpc_target([Instance("10.0.0.1", 1), Instance("10.0.0.2", 2)]) == "ipv4:10.0.0.1:1,10.0.0.2:2"
    assert grpc_target([Instance("fd00::1", 1), Instance("fd00::2", 1)]) == "ipv6:[fd00::1]:1,[fd00::2]:1"
