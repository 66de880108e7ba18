"""Service discovery: where a service's healthy instances are, and how a process announces itself.

One interface, :class:`Discovery`, three implementations chosen by ``MESHSERVE_DISCOVERY``:

- ``static`` (the embedded default): addresses from ``MESHSERVE_<NAME>_ADDRESS`` (:class:`MeshEndpoints`);
  registering is a no-op. ``make up`` uses it and needs nothing else.
- ``consul``: each service registers itself with the local Consul agent (``PUT /v1/agent/service/register``)
  with a gRPC health check, and deregisters on shutdown; clients watch ``GET /v1/health/service/<name>?passing``
  with blocking queries (``index`` from ``X-Consul-Index``) and keep the healthy instances in a cache, so a
  call never waits on Consul.
- ``kubernetes``: the cluster DNS of a headless Service; gRPC's own ``dns:///`` resolver re-resolves it and
  balances round-robin over the pod addresses. Kubernetes (not the process) keeps the endpoints current.

Clients ask for a gRPC *target* (:meth:`Discovery.target`) plus channel options; :mod:`services.common.clients`
builds channels from them and, for ``dynamic`` discoveries, follows changes of the target.
"""

from __future__ import annotations

from services.common.discovery.base import (
    ROUND_ROBIN,
    Discovery,
    DiscoverySettings,
    Instance,
    StaticDiscovery,
    default_advertise_address,
    grpc_target,
    split_address,
)
from services.common.discovery.channel import FollowingChannel
from services.common.discovery.consul import ConsulDiscovery
from services.common.discovery.kubernetes import KubernetesDnsDiscovery
from services.common.settings import MeshEndpoints


def discovery_from_env(endpoints: MeshEndpoints | None = None) -> Discovery:
    """The discovery configured by ``MESHSERVE_DISCOVERY`` (static when unset)."""
    settings = DiscoverySettings()
    if settings.discovery == "consul":
        return ConsulDiscovery(settings, endpoints)
    if settings.discovery == "kubernetes":
        return KubernetesDnsDiscovery(settings, endpoints)
    return StaticDiscovery(endpoints)


__all__ = [
    "ROUND_ROBIN",
    "ConsulDiscovery",
    "Discovery",
    "DiscoverySettings",
    "FollowingChannel",
    "Instance",
    "KubernetesDnsDiscovery",
    "StaticDiscovery",
    "default_advertise_address",
    "discovery_from_env",
    "grpc_target",
    "split_address",
]
