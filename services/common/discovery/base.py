"""What every discovery shares: settings, instances, addresses, the interface and the static one."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import MeshEndpoints

log = logging.getLogger("meshserve.discovery")

#: gRPC service config that spreads calls over every resolved address whose grpc.health.v1 status is
#: SERVING (client-side health checking): a replica that is starting, or draining after SIGTERM, gets
#: no calls while another one serves.
ROUND_ROBIN = json.dumps(
    {"loadBalancingConfig": [{"round_robin": {}}], "healthCheckConfig": {"serviceName": ""}}
)


class DiscoverySettings(BaseSettings):
    """How processes find each other (``MESHSERVE_DISCOVERY`` and ``MESHSERVE_CONSUL_*``/``_KUBERNETES_*``)."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_", extra="ignore")

    discovery: Literal["static", "consul", "kubernetes"] = Field(
        "static", description="Discovery backend: static addresses, Consul, or Kubernetes DNS."
    )
    advertise_address: str = Field(
        "",
        description="Address other processes use to reach this one; defaults to the bound host or the pod IP.",
    )
    consul_url: str = Field("http://127.0.0.1:8500", description="HTTP address of the local Consul agent.")
    consul_token: SecretStr | None = Field(None, description="Consul ACL token (X-Consul-Token).")
    consul_datacenter: str = Field("", description="Consul datacenter to query; empty is the agent's own.")
    consul_service_prefix: str = Field("meshserve-", description="Prefix of every Consul service name.")
    consul_wait_seconds: float = Field(30.0, gt=0, le=600, description="Longest wait of one blocking query.")
    consul_check_interval: str = Field("10s", description="How often Consul runs the gRPC health check.")
    consul_check_timeout: str = Field("2s", description="Timeout of one gRPC health check.")
    consul_deregister_after: str = Field(
        "1m", description="Consul removes an instance critical for this long (crashed without deregistering)."
    )
    consul_register_timeout_seconds: float = Field(
        30.0, description="How long a starting service keeps retrying its registration."
    )
    kubernetes_namespace: str = Field("", description="Namespace of the Services; defaults to the pod's own.")
    kubernetes_cluster_domain: str = Field("cluster.local", description="The cluster's DNS domain.")
    kubernetes_host_template: str = Field(
        "{service}.{namespace}.svc.{cluster_domain}",
        description="DNS name of a service's headless Service ({service}, {namespace}, {cluster_domain}).",
    )


@dataclass(frozen=True)
class Instance:
    """One reachable instance of a service."""

    host: str
    port: int
    id: str = ""

    @property
    def address(self) -> str:
        """``host:port`` (IPv6 literals bracketed)."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (or ``[v6]:port``) into its parts."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def grpc_target(instances: list[Instance]) -> str:
    """A gRPC target naming every instance: ``ipv4:``/``ipv6:`` lists balance over all of them."""
    if len(instances) == 1:
        return instances[0].address
    kinds = {ip_version(i.host) for i in instances}
    if kinds == {4}:
        return "ipv4:" + ",".join(i.address for i in instances)
    if kinds == {6}:
        return "ipv6:" + ",".join(i.address for i in instances)
    return instances[0].address  # host names that did not resolve: the first one still works


def ip_version(host: str) -> int:
    try:
        return ipaddress.ip_address(host).version
    except ValueError:
        return 0


def default_advertise_address(bound_host: str) -> str:
    """The address peers should dial: the bound host unless it is a wildcard, else this host's IP."""
    if bound_host not in ("", "0.0.0.0", "::", "[::]"):
        return bound_host
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


class Discovery:
    """Resolves services to gRPC targets and registers this process; the static base does nothing dynamic."""

    #: Whether the target of a service may change while the process runs (clients then follow it).
    dynamic = False

    def __init__(self, endpoints: MeshEndpoints | None = None) -> None:
        self.endpoints = endpoints or MeshEndpoints()

    def target(self, service: str) -> str:
        """The gRPC target to dial for a service now (never blocks)."""
        return grpc_target(self.configured(service))

    def channel_options(self, service: str) -> tuple[tuple[str, Any], ...]:
        """Extra channel options for a service's target: round robin over a list of replicas."""
        return (("grpc.service_config", ROUND_ROBIN),) if len(self.configured(service)) > 1 else ()

    def configured(self, service: str) -> list[Instance]:
        """The instances ``MESHSERVE_<NAME>_ADDRESS`` names: one address, or several replicas
        separated by commas."""
        parts = [p.strip() for p in self.endpoints.address_of(service).split(",") if p.strip()]
        return [Instance(*split_address(p)) for p in parts]

    async def resolve(self, service: str) -> list[Instance]:
        """The instances of a service."""
        return self.configured(service)

    async def register(self, service: str, host: str, port: int) -> None:
        """Announces this process as an instance of ``service``."""

    async def deregister(self) -> None:
        """Withdraws what :meth:`register` announced."""

    async def close(self) -> None:
        """Stops background work and releases connections."""


class StaticDiscovery(Discovery):
    """Fixed addresses from the environment: the embedded default."""


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address of a DNS name, in answer order, without duplicates."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))
