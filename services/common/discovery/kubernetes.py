"""Kubernetes discovery: a headless Service's cluster DNS name, resolved by gRPC itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from services.common.discovery.base import (
    ROUND_ROBIN,
    Discovery,
    DiscoverySettings,
    Instance,
    resolve_host,
    split_address,
)
from services.common.settings import MeshEndpoints

#: Where a pod finds its own namespace (mounted by Kubernetes into every pod with a service account).
POD_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class KubernetesDnsDiscovery(Discovery):
    """Headless Services in cluster DNS; gRPC re-resolves the name and balances over every pod."""

    def __init__(
        self,
        settings: DiscoverySettings,
        endpoints: MeshEndpoints | None = None,
        resolver: Callable[[str, int], Awaitable[list[str]]] | None = None,
    ) -> None:
        super().__init__(endpoints)
        self.settings = settings
        self.namespace = settings.kubernetes_namespace or _pod_namespace()
        self._resolver = resolver or resolve_host

    def host_of(self, service: str) -> str:
        """DNS name of a service's headless Service."""
        return self.settings.kubernetes_host_template.format(
            service=service, namespace=self.namespace, cluster_domain=self.settings.kubernetes_cluster_domain
        )

    def port_of(self, service: str) -> int:
        """The service's gRPC port: the one of its configured address (the default ports unless overridden)."""
        return split_address(self.endpoints.address_of(service))[1]

    def target(self, service: str) -> str:
        """``dns:///<name>:<port>``: gRPC's DNS resolver keeps the pod list fresh."""
        return f"dns:///{self.host_of(service)}:{self.port_of(service)}"

    def channel_options(self, service: str) -> tuple[tuple[str, Any], ...]:
        """Round-robin over every pod address (a headless Service returns one A record per ready pod)."""
        return (("grpc.service_config", ROUND_ROBIN),)

    async def resolve(self, service: str) -> list[Instance]:
        """Every ready pod address behind the headless Service."""
        port = self.port_of(service)
        hosts = await self._resolver(self.host_of(service), port)
        return [Instance(host, port) for host in hosts]


def _pod_namespace() -> str:
    try:
        return POD_NAMESPACE_FILE.read_text().strip() or "default"
    except OSError:
        return "default"
