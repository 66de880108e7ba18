"""Runs one gRPC service process: health, reflection, interceptors, graceful shutdown on SIGTERM.

A service provides its name, a factory that builds its :class:`Registration` from its settings
(servicers, start/stop hooks, a readiness check), and optionally ``prepare``, which waits for what the
factory needs (its database). :func:`main` does the rest, the same way for every service.

Health (``grpc.health.v1``) has two meanings here:

- ``meshserve.liveness`` (:data:`LIVENESS`) is SERVING from the moment the port listens until the
  process exits: the process is alive (Kubernetes' liveness and startup probes).
- ``""`` and every service name are readiness: NOT_SERVING while the service starts (waiting for its
  database, starting its hooks), SERVING once its readiness check passes, NOT_SERVING whenever the
  check fails afterwards (checked every :data:`READINESS_PERIOD` seconds), and NOT_SERVING for good on
  SIGTERM, ``drain_delay_seconds`` before the server stops accepting calls.

``MESHSERVE_LISTENING`` is printed when the port listens, ``MESHSERVE_READY`` once it is first
SERVING (the test helpers read the port from either).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
import uvloop
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from pydantic import ValidationError

from services.common.discovery import discovery_from_env
from services.common.heap import freeze_startup_heap
from services.common.interceptors import InflightTracker, ServerInterceptor
from services.common.logs import configure_logging
from services.common.metrics import start_metrics_server
from services.common.postgres import DatabaseUnreachable
from services.common.settings import ConfigurationError, ServiceSettings
from services.common.tracing import configure_tracing

log = logging.getLogger("meshserve.server")

#: The health name that reports liveness (the process runs) rather than readiness.
LIVENESS = "meshserve.liveness"
#: Seconds between two readiness checks of a started service.
READINESS_PERIOD = 1.0
#: Deadline of one readiness check; one that takes longer counts as failed.
READINESS_TIMEOUT = 5.0
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING

#: Options of every server: large messages for tensors and audio, keepalive for long streams.
SERVER_OPTIONS: Sequence[tuple[str, Any]] = (
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ("grpc.so_reuseport", 0),
)


@dataclass
class Registration:
    """What a service adds to the server: servicers registered by ``add`` and their full names."""

    add: Callable[[grpc.aio.Server], None]
    service_names: Sequence[str]
    on_start: Callable[[], Awaitable[None]] | None = None
    on_stop: Callable[[], Awaitable[None]] | None = None
    health_names: Sequence[str] = field(default_factory=tuple)
    #: Called as draining begins: long-lived calls end, so that their clients go elsewhere.
    on_drain: Callable[[], None] | None = None
    #: Whether the service can serve now (its store answers a trivial query, …); None: once started.
    ready: Callable[[], Awaitable[bool]] | None = None


class ServiceProcess:
    """A started service: its server, bound port and health state."""

    def __init__(self, name: str, settings: ServiceSettings, registration: Registration) -> None:
        self.name = name
        self.settings = settings
        self.registration = registration
        self.inflight = InflightTracker()
        self.server = grpc.aio.server(interceptors=[ServerInterceptor(self.inflight)], options=SERVER_OPTIONS)
        self.health = health.aio.HealthServicer()
        self.port = 0
        self._stopped = asyncio.Event()

    async def listen(self) -> int:
        """Binds and starts the server with health alone: alive, not ready. Returns the port."""
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.port = self.server.add_insecure_port(f"{self.settings.host}:{self.settings.port}")
        await self.health.set(LIVENESS, SERVING)
        await self.health.set("", NOT_SERVING)
        await self.server.start()
        return self.port

    async def start(self) -> int:
        """Adds the service's servicers to the listening server and runs its start hook; readiness
        stays NOT_SERVING until :meth:`watch_readiness` sees the check pass."""
        if not self.port:
            await self.listen()
        self.registration.add(self.server)
        for service_name in self.registration.service_names:
            await self.health.set(service_name, NOT_SERVING)
        names = [*self.registration.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME]
        reflection.enable_server_reflection(names, self.server)
        if self.registration.on_start is not None:
            await self.registration.on_start()
        return self.port

    async def is_ready(self) -> bool:
        """The service's readiness check, False when it fails, raises or takes too long."""
        if self.registration.ready is None:
            return True
        try:
            return await asyncio.wait_for(self.registration.ready(), READINESS_TIMEOUT)
        except Exception as error:  # a store that does not answer is simply not ready
            log.warning("readiness check failed", extra={"error": f"{type(error).__name__}: {error}"})
            return False

    async def set_ready(self, ready: bool) -> None:
        """Readiness of the whole server and of each service (ignored once draining)."""
        for service_name in ("", *self.registration.service_names):
            await self.health.set(service_name, SERVING if ready else NOT_SERVING)

    async def watch_readiness(self, first_ready: Callable[[], None]) -> None:
        """Checks readiness every period and reports changes; calls ``first_ready`` the first time."""
        ready: bool | None = None
        announced = False
        while True:
            now = await self.is_ready()
            if now != ready:
                ready = now
                await self.set_ready(now)
                log.info("ready" if now else "not ready")
                if now and not announced:
                    announced = True
                    first_ready()
            await asyncio.sleep(READINESS_PERIOD)

    async def stop(self) -> None:
        """Reports NOT_SERVING, keeps serving for the drain delay (balancers and health-checking
        clients stop sending), stops accepting calls, drains in-flight ones within the grace period,
        then cleans up."""
        log.info(
            "draining",
            extra={
                "in_flight": self.inflight.count,
                "grace_s": self.settings.grace_seconds,
                "delay_s": self.settings.drain_delay_seconds,
            },
        )
        await self.set_ready(False)  # readiness only: the process stays alive until it exits
        if self.registration.on_drain is not None:
            self.registration.on_drain()
        if self.settings.drain_delay_seconds > 0:
            await asyncio.sleep(self.settings.drain_delay_seconds)
        started = time.monotonic()
        await self.server.stop(self.settings.grace_seconds)
        drained = time.monotonic()
        if self.registration.on_stop is not None:
            await self.registration.on_stop()
        log.info(
            "stopped serving",
            extra={
                "drain_s": round(drained - started, 3),
                "cleanup_s": round(time.monotonic() - drained, 3),
            },
        )
        self._stopped.set()

    async def wait(self) -> None:
        """Waits until the server has stopped."""
        await self.server.wait_for_termination()


async def prepared(
    name: str, settings: ServiceSettings, prepare: Callable[[Any], None] | None, process: ServiceProcess
) -> None:
    """Waits, NOT_SERVING, until ``prepare`` passes (its database accepts connections), at most
    ``start_wait_seconds``; then its DatabaseUnreachable stops the service."""
    if prepare is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.start_wait_seconds
    while True:
        try:
            await asyncio.to_thread(prepare, settings)
            return
        except DatabaseUnreachable as error:
            if loop.time() >= deadline:
                raise
            log.warning("waiting for the database", extra={"service": name, "error": str(error)})
            await asyncio.sleep(1.0)


async def serve(
    name: str,
    settings: ServiceSettings,
    build: Callable[[Any], Registration],
    prepare: Callable[[Any], None] | None = None,
) -> None:
    """Listens at once (alive, not ready), waits for what the service needs, builds and starts it,
    reports SERVING once its readiness check passes; on SIGTERM or SIGINT drains and returns."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    process = ServiceProcess(name, settings, Registration(add=lambda server: None, service_names=()))
    port = await process.listen()
    print(f"MESHSERVE_LISTENING service={name} port={port} pid={os.getpid()}", flush=True)
    starting = asyncio.ensure_future(prepared(name, settings, prepare, process))
    await asyncio.wait([starting, asyncio.ensure_future(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():  # stopped while waiting for the database
        starting.cancel()
        await process.server.stop(0)
        return
    starting.result()  # DatabaseUnreachable after the wait: the caller reports it
    process.registration = build(settings)
    await process.start()
    if settings.metrics_port >= 0:
        start_metrics_server(settings.host, settings.metrics_port)
    # Static discovery (the default) registers nothing; Consul learns of this instance here.
    discovery = discovery_from_env()
    await discovery.register(name, settings.host, port)

    def announce() -> None:
        # The launcher and tests read this line to learn the port.
        loop = "uvloop" if isinstance(asyncio.get_running_loop(), uvloop.Loop) else "asyncio"
        print(f"MESHSERVE_READY service={name} port={port} pid={os.getpid()} loop={loop}", flush=True)
        log.info("serving", extra={"address": f"{settings.host}:{port}"})

    freeze_startup_heap()
    readiness = asyncio.ensure_future(process.watch_readiness(announce))
    await stop.wait()
    readiness.cancel()
    # Withdraw first so that clients stop picking this instance while it drains.
    await discovery.deregister()
    await discovery.close()
    await process.stop()
    log.info("stopped")


def main(
    name: str,
    settings_cls: type[ServiceSettings],
    build: Callable[[Any], Registration],
    prepare: Callable[[Any], None] | None = None,
) -> None:
    """Entry point of a service module: settings from the environment, logs, tracing, serve.

    ``prepare`` (blocking, run off the event loop) raises DatabaseUnreachable while what ``build``
    needs is not there yet; ``build`` runs once it passes."""
    try:
        settings = settings_cls()
        configure_logging(name, settings.log_level)
        configure_tracing(name)
        run = uvloop.run if settings.event_loop == "uvloop" else asyncio.run
        run(serve(name, settings, build, prepare))
    except (ConfigurationError, ValidationError) as error:  # a setting it cannot use: say which, stop
        print(f"meshserve {name}: configuration error: {error}", file=sys.stderr, flush=True)
        sys.exit(2)
    except KeyboardInterrupt:
        pass
    sys.exit(0)
