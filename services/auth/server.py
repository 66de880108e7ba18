"""Wires the auth service: ``AuthService`` and ``MeteringService`` over one database."""

from __future__ import annotations

import asyncio

import grpc

from meshserve.v1 import auth_pb2, auth_pb2_grpc, metering_pb2, metering_pb2_grpc
from services.auth.core import AuthCore
from services.auth.metering.servicer import MeteringServicer
from services.auth.metering.store import MeteringStore
from services.auth.servicer import AuthServicer
from services.auth.settings import AuthSettings
from services.common.postgres import probe
from services.common.server import Registration, main

SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name
METERING_SERVICE_NAME = metering_pb2.DESCRIPTOR.services_by_name["MeteringService"].full_name


def build(settings: AuthSettings) -> Registration:
    """The auth service's registration."""
    core = AuthCore(settings)
    servicer = AuthServicer(core)
    metering = MeteringServicer(MeteringStore(core.db))

    def add(server: grpc.aio.Server) -> None:
        auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server)
        metering_pb2_grpc.add_MeteringServiceServicer_to_server(metering, server)

    async def ready() -> bool:
        # Ready: the database is open and answers a trivial query.
        return await asyncio.to_thread(core.db.one, "SELECT 1") is not None

    return Registration(add=add, service_names=[SERVICE_NAME, METERING_SERVICE_NAME], ready=ready)


def prepare(settings: AuthSettings) -> None:
    """Waits for a PostgreSQL database to accept connections (nothing to wait for with SQLite)."""
    probe(settings.database_url, "MESHSERVE_AUTH_DATABASE_URL")


def run() -> None:
    """Process entry point."""
    main("auth", AuthSettings, build, prepare)
