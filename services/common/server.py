"""Runs one gRPC service process: health, reflection, interceptors, graceful shutdown on SIGTERM.

A service provides a :class:`ServiceSpec`: its name, a factory that builds its servicers from its
settings, and optional start/stop hooks. :func:`run` does the rest, the same way for every service.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from pydantic import ValidationError

from services.common.discovery import discovery_from_env
from services.common.interceptors import InflightTracker, ServerInterceptor
from services.common.logs import configure_logging
from services.common.metrics import start_metrics_server
from services.common.settings import ConfigurationError, ServiceSettings
from services.common.tracing import configure_tracing

log = logging.getLogger("meshserve.server")

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

    async def start(self) -> int:
        """Binds, registers and starts serving; returns the bound port."""
        self.registration.add(self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        names = [*self.registration.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME]
        reflection.enable_server_reflection(names, self.server)
        self.port = self.server.add_insecure_port(f"{self.settings.host}:{self.settings.port}")
        if self.registration.on_start is not None:
            await self.registration.on_start()
        await self.server.start()
        for service_name in ("", *self.registration.service_names):
            await self.health.set(service_name, health_pb2.HealthCheckResponse.SERVING)
        return self.port

    async def stop(self) -> None:
        """Stops accepting calls, drains in-flight ones within the grace period, then cleans up."""
        log.info("draining", extra={"in_flight": self.inflight.count, "grace_s": self.settings.grace_seconds})
        await self.health.enter_graceful_shutdown()
        await self.server.stop(self.settings.grace_seconds)
        if self.registration.on_stop is not None:
            await self.registration.on_stop()
        self._stopped.set()

    async def wait(self) -> None:
        """Waits until the server has stopped."""
        await self.server.wait_for_termination()


async def serve(name: str, settings: ServiceSettings, registration: Registration) -> None:
    """Serves until SIGTERM or SIGINT, then drains and returns."""
    process = ServiceProcess(name, settings, registration)
    port = await process.start()
    if settings.metrics_port >= 0:
        start_metrics_server(settings.host, settings.metrics_port)
    # Static discovery (the default) registers nothing; Consul learns of this instance here.
    discovery = discovery_from_env()
    await discovery.register(name, settings.host, port)
    # The launcher and tests read this line to learn the port.
    print(f"MESHSERVE_READY service={name} port={port} pid={os.getpid()}", flush=True)
    log.info("serving", extra={"address": f"{settings.host}:{port}"})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    # Withdraw first so that clients stop picking this instance while it drains.
    await discovery.deregister()
    await discovery.close()
    await process.stop()
    log.info("stopped")


def main(name: str, settings_cls: type[ServiceSettings], build: Callable[[Any], Registration]) -> None:
    """Entry point of a service module: settings from the environment, logs, tracing, serve."""
    try:
        settings = settings_cls()
        configure_logging(name, settings.log_level)
        configure_tracing(name)
        registration = build(settings)
    except (ConfigurationError, ValidationError) as error:  # a setting it cannot use: say which, stop
        print(f"meshserve {name}: configuration error: {error}", file=sys.stderr, flush=True)
        sys.exit(2)
    try:
        asyncio.run(serve(name, settings, registration))
    except KeyboardInterrupt:
        pass
    sys.exit(0)
