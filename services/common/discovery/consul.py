"""Consul discovery: registration with the local agent, and blocking-query watches of healthy instances."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.common.discovery.base import (
    ROUND_ROBIN,
    Discovery,
    DiscoverySettings,
    Instance,
    default_advertise_address,
    grpc_target,
    ip_version,
    resolve_host,
)
from services.common.settings import MeshEndpoints

log = logging.getLogger("meshserve.discovery")


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
        if ip_version(instance.host):
            resolved.append(instance)
            continue
        try:
            hosts = await resolve_host(instance.host, instance.port)
        except OSError:
            hosts = [instance.host]
        resolved.append(Instance(hosts[0], instance.port, instance.id))
    return resolved


def _backoff(attempt: int, base: float = 0.2, cap: float = 5.0) -> float:
    """Full-jitter exponential backoff (also the rate limit Consul's docs ask of watch loops on errors)."""
    return random.uniform(base / 2, min(cap, base * 2**attempt))
