"""Wires the registry: settings, metadata store, blob store, built-in models and servicer."""

from __future__ import annotations

import asyncio
import logging

from meshserve.v1 import registry_pb2, registry_pb2_grpc
from services.common.postgres import probe
from services.common.server import Registration, main
from services.registry.blobs import BlobStore
from services.registry.builtins import seed_builtin_models
from services.registry.catalog import Registry
from services.registry.pg_store import open_store
from services.registry.servicer import RegistryServicer
from services.registry.settings import RegistrySettings

SERVICE_NAME = registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name
log = logging.getLogger("meshserve.registry")


def build(settings: RegistrySettings) -> Registration:
    """The registry's registration."""
    store = open_store(settings.database_url, settings.db_file)
    purged = store.purge_incomplete()
    if purged:
        log.warning("dropped %d interrupted uploads", purged)
    blobs = BlobStore(settings.blobs_root, settings.max_upload_bytes)
    seed_builtin_models(store, blobs)
    registry = Registry(store, blobs)
    temporary, unreferenced = registry.recover()
    if temporary or unreferenced:
        log.warning(
            "removed %d temporary files and %d unreferenced blobs of interrupted uploads",
            temporary,
            unreferenced,
        )
    servicer = RegistryServicer(registry, settings.import_timeout_seconds)

    async def ready() -> bool:
        # Ready: the metadata store is open and answers a trivial query.
        await asyncio.to_thread(store.sha_in_use, "")
        return True

    return Registration(
        add=lambda server: registry_pb2_grpc.add_RegistryServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        ready=ready,
    )


def prepare(settings: RegistrySettings) -> None:
    """Waits for a PostgreSQL database to accept connections (nothing to wait for with SQLite)."""
    probe(settings.database_url, "MESHSERVE_REGISTRY_DATABASE_URL")


def run() -> None:
    """Process entry point."""
    main("registry", RegistrySettings, build, prepare)
