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

import asyncio
import contextlib
import ipaddress
import json
import logging
import random
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import grpc
import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import MeshEndpoints

log = logging.getLogger("meshserve.discovery")

#: gRPC service config that spreads calls over every resolved address.
ROUND_ROBIN = json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})
#: Where a pod finds its own namespace (mounted by Kubernetes into every pod with a service account).
POD_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


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
    kinds = {_ip_version(i.host) for i in instances}
    if kinds == {4}:
        return "ipv4:" + ",".join(i.address for i in instances)
    if kinds == {6}:
        return "ipv6:" + ",".join(i.address for i in instances)
    return instances[0].address  # host names that did not resolve: the first one still works


def _ip_version(host: str) -> int:
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
        return self.endpoints.address_of(service)

    def channel_options(self, service: str) -> tuple[tuple[str, Any], ...]:
        """Extra channel options for a service's target."""
        return ()

    async def resolve(self, service: str) -> list[Instance]:
        """The instances of a service."""
        host, port = split_address(self.endpoints.address_of(service))
        return [Instance(host, port)]

    async def register(self, service: str, host: str, port: int) -> None:
        """Announces this process as an instance of ``service``."""

    async def deregister(self) -> None:
        """Withdraws what :meth:`register` announced."""

    async def close(self) -> None:
        """Stops background work and releases connections."""


class StaticDiscovery(Discovery):
    """Fixed addresses from the environment: the embedded default."""


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
        self._resolver = resolver or _resolve_host

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


async def _resolve_host(host: str, port: int) -> list[str]:
    """Every address of a DNS name, in answer order, without duplicates."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass
class _Watch:
    """The cached healthy instances of one service and the blocking query that keeps them fresh."""

    instances: list[Instance] | None = None  # None until Consul has answered once
    target: str = ""  # last non-empty target: kept while Consul reports no healthy instance
    index: int = 0
    version: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class ConsulDiscovery(Discovery):
    """Self-registration with the local agent and cached, blocking-query resolution of healthy instances."""

    dynamic = True

    def __init__(
        self,
        settings: DiscoverySettings,
        endpoints: MeshEndpoints | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(endpoints)
        self.settings = settings
        headers = {}
        if settings.consul_token is not None:
            headers["X-Consul-Token"] = settings.consul_token.get_secret_value()
        self._http = http or httpx.AsyncClient(base_url=settings.consul_url.rstrip("/"), headers=headers)
        self._watches: dict[str, _Watch] = {}
        self.registered_id = ""

    def consul_name(self, service: str) -> str:
        """The Consul service name of a meshserve service."""
        return f"{self.settings.consul_service_prefix}{service}"

    # -- registration -------------------------------------------------------------------------------

    def registration(self, service: str, host: str, port: int) -> dict[str, Any]:
        """The agent's service definition: name, address, port and a gRPC health check."""
        address = self.settings.advertise_address or default_advertise_address(host)
        instance = Instance(address, port)
        service_id = re.sub(r"[^A-Za-z0-9_.-]", "-", f"{self.consul_name(service)}-{address}-{port}")
        return {
            "ID": service_id,
            "Name": self.consul_name(service),
            "Tags": ["meshserve", "grpc"],
            "Address": address,
            "Port": port,
            "Meta": {"meshserve_service": service, "protocol": "grpc"},
            "Check": {
                "CheckID": f"{service_id}-grpc",
                "Name": f"{service} gRPC health",
                # grpc.health.v1 Check with an empty service name: the server's overall health.
                "GRPC": instance.address,
                "GRPCUseTLS": False,
                "Interval": self.settings.consul_check_interval,
                "Timeout": self.settings.consul_check_timeout,
                "DeregisterCriticalServiceAfter": self.settings.consul_deregister_after,
            },
        }

    async def register(self, service: str, host: str, port: int) -> None:
        """Registers with the agent, retrying while it starts; raises when it never answers."""
        body = self.registration(service, host, port)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.consul_register_timeout_seconds
        attempt = 0
        while True:
            try:
                reply = await self._http.put(
                    "/v1/agent/service/register", params={"replace-existing-checks": "true"}, json=body
                )
                reply.raise_for_status()
                break
            except httpx.HTTPError as error:
                if loop.time() >= deadline:
                    raise RuntimeError(f"Consul registration of {body['ID']} failed: {error}") from error
                await asyncio.sleep(_backoff(attempt))
                attempt += 1
        self.registered_id = body["ID"]
        log.info("registered with consul", extra={"service_id": self.registered_id})

    async def deregister(self) -> None:
        """Removes this instance from the agent; failures are logged (the check would expire it anyway)."""
        if not self.registered_id:
            return
        try:
            reply = await self._http.put(f"/v1/agent/service/deregister/{self.registered_id}")
            reply.raise_for_status()
            log.info("deregistered from consul", extra={"service_id": self.registered_id})
        except httpx.HTTPError as error:
            log.warning("consul deregistration failed", extra={"error": str(error)})
        self.registered_id = ""

    # -- resolution ---------------------------------------------------------------------------------

    def target(self, service: str) -> str:
        """Healthy instances from the cache; the static address until Consul has answered."""
        watch = self._watch(service)
        return watch.target or self.endpoints.address_of(service)

    def channel_options(self, service: str) -> tuple[tuple[str, Any], ...]:
        """Round-robin over the healthy instances."""
        return (("grpc.service_config", ROUND_ROBIN),)

    async def resolve(self, service: str, timeout: float = 10.0) -> list[Instance]:
        """The healthy instances of a service (waits for Consul's first answer, then serves the cache)."""
        watch = self._watch(service)
        if watch.instances is None:
            await asyncio.wait_for(watch.changed.wait(), timeout)
        return list(watch.instances or [])

    async def wait_until(
        self, service: str, predicate: Callable[[list[Instance]], bool], timeout: float = 10.0
    ) -> list[Instance]:
        """Waits until the cached healthy instances satisfy ``predicate``; returns them."""
        watch = self._watch(service)
        async with asyncio.timeout(timeout):
            while watch.instances is None or not predicate(watch.instances):
                await watch.changed.wait()
        return list(watch.instances)

    def _watch(self, service: str) -> _Watch:
        watch = self._watches.setdefault(service, _Watch())
        if watch.task is None:
            with contextlib.suppress(RuntimeError):  # no running loop: the first async caller starts it
                watch.task = asyncio.get_running_loop().create_task(self._follow(service, watch))
        return watch

    async def _follow(self, service: str, watch: _Watch) -> None:
        """Blocking-query loop on the health endpoint, following Consul's documented index rules."""
        wait = self.settings.consul_wait_seconds
        attempt = 0
        while True:
            params: dict[str, str] = {"passing": "true"}
            if self.settings.consul_datacenter:
                params["dc"] = self.settings.consul_datacenter
            if watch.index > 0:
                params |= {"index": str(watch.index), "wait": f"{wait:g}s"}
            try:
                # Consul adds up to wait/16 of jitter to a blocking query: allow for it.
                reply = await self._http.get(
                    f"/v1/health/service/{self.consul_name(service)}", params=params, timeout=wait * 1.1 + 5
                )
                reply.raise_for_status()
                entries = reply.json()
                new_index = int(reply.headers.get("X-Consul-Index", "0"))
            except (httpx.HTTPError, ValueError) as error:
                log.warning("consul health query failed", extra={"service": service, "error": str(error)})
                await asyncio.sleep(_backoff(attempt, cap=wait))
                attempt += 1
                continue
            attempt = 0
            if new_index < watch.index:
                # The index only grows; one that went backwards (a restored or new agent) restarts the watch.
                watch.index = 0
                await self._store(watch, entries)
                continue
            changed = new_index != watch.index or watch.instances is None
            # An index below 1 would make every following query return at once: Consul's docs say use 1.
            watch.index = max(new_index, 1)
            if changed:
                await self._store(watch, entries)

    async def _store(self, watch: _Watch, entries: list[dict[str, Any]]) -> None:
        instances = []
        for entry in entries:
            svc = entry.get("Service", {})
            # Consul's documented fallback: an empty service address means the node's address.
            host = svc.get("Address") or entry.get("Node", {}).get("Address", "")
            if host and svc.get("Port"):
                instances.append(Instance(host, int(svc["Port"]), svc.get("ID", "")))
        instances.sort(key=lambda i: (i.host, i.port))
        if instances:
            watch.target = grpc_target(await _numeric(instances))
        watch.instances = instances
        watch.version += 1
        old, watch.changed = watch.changed, asyncio.Event()
        old.set()

    async def close(self) -> None:
        """Stops every watch and closes the HTTP client."""
        tasks = [w.task for w in self._watches.values() if w.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._watches.clear()
        await self._http.aclose()


async def _numeric(instances: list[Instance]) -> list[Instance]:
    """Host names resolved to IPs so that several instances fit one ``ipv4:``/``ipv6:`` target."""
    if len(instances) < 2:
        return instances
    resolved = []
    for instance in instances:
        if _ip_version(instance.host):
            resolved.append(instance)
            continue
        try:
            hosts = await _resolve_host(instance.host, instance.port)
        except OSError:
            hosts = [instance.host]
        resolved.append(Instance(hosts[0], instance.port, instance.id))
    return resolved


def _backoff(attempt: int, base: float = 0.2, cap: float = 5.0) -> float:
    """Full-jitter exponential backoff (also the rate limit Consul's docs ask of watch loops on errors)."""
    return random.uniform(base / 2, min(cap, base * 2**attempt))


def discovery_from_env(endpoints: MeshEndpoints | None = None) -> Discovery:
    """The discovery configured by ``MESHSERVE_DISCOVERY`` (static when unset)."""
    settings = DiscoverySettings()
    if settings.discovery == "consul":
        return ConsulDiscovery(settings, endpoints)
    if settings.discovery == "kubernetes":
        return KubernetesDnsDiscovery(settings, endpoints)
    return StaticDiscovery(endpoints)


class FollowingChannel:
    """A ``grpc.aio.Channel`` stand-in whose calls go to a service's current target.

    Stubs are built once over a channel, while a dynamic discovery's target changes (instances come and
    go). Each call looks the target up (a dictionary read) and uses the channel of that target; a channel
    left behind is closed with a grace period so that its in-flight calls finish.
    """

    def __init__(
        self,
        service: str,
        discovery: Discovery,
        options: tuple[tuple[str, Any], ...],
        grace_seconds: float = 60.0,
    ) -> None:
        self.service = service
        self.discovery = discovery
        self.options = options
        self.grace_seconds = grace_seconds
        self._target = ""
        self._channel: grpc.aio.Channel | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def current(self) -> grpc.aio.Channel:
        """The channel to the service's target now, replaced when the target changed."""
        target = self.discovery.target(self.service)
        if self._channel is None or target != self._target:
            old = self._channel
            options = (*self.options, *self.discovery.channel_options(self.service))
            self._channel, self._target = grpc.aio.insecure_channel(target, options=options), target
            if old is not None:
                task = asyncio.get_running_loop().create_task(old.close(self.grace_seconds))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
            log.info("channel follows discovery", extra={"service": self.service, "target": target})
        return self._channel

    def unary_unary(self, method: str, *args: Any, **kwargs: Any) -> _Deferred:
        """A multicallable bound at call time."""
        return _Deferred(self, "unary_unary", method, args, kwargs)

    def unary_stream(self, method: str, *args: Any, **kwargs: Any) -> _Deferred:
        """A multicallable bound at call time."""
        return _Deferred(self, "unary_stream", method, args, kwargs)

    def stream_unary(self, method: str, *args: Any, **kwargs: Any) -> _Deferred:
        """A multicallable bound at call time."""
        return _Deferred(self, "stream_unary", method, args, kwargs)

    def stream_stream(self, method: str, *args: Any, **kwargs: Any) -> _Deferred:
        """A multicallable bound at call time."""
        return _Deferred(self, "stream_stream", method, args, kwargs)

    async def channel_ready(self) -> None:
        """Waits until the current channel is connected."""
        await self.current().channel_ready()

    async def close(self, grace: float | None = None) -> None:
        """Closes the current channel and waits for the ones being retired."""
        if self._channel is not None:
            await self._channel.close(grace)
            self._channel = None
        for task in list(self._closing):
            task.cancel()
        await asyncio.gather(*self._closing, return_exceptions=True)


class _Deferred:
    """A multicallable that picks its real channel when called."""

    def __init__(self, owner: FollowingChannel, kind: str, method: str, args: Any, kwargs: Any) -> None:
        self._owner, self._kind, self._method, self._args, self._kwargs = owner, kind, method, args, kwargs
        self._bound: tuple[grpc.aio.Channel, Any] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        channel = self._owner.current()
        if self._bound is None or self._bound[0] is not channel:
            factory = getattr(channel, self._kind)
            self._bound = (channel, factory(self._method, *self._args, **self._kwargs))
        return self._bound[1](*args, **kwargs)
