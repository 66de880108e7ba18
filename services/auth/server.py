"""Wires the auth service."""

from __future__ import annotations

from meshserve.v1 import auth_pb2, auth_pb2_grpc
from services.auth.core import AuthCore
from services.auth.servicer import AuthServicer
from services.auth.settings import AuthSettings
from services.common.server import Registration, main

SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name


def build(settings: AuthSettings) -> Registration:
    """The auth service's registration."""
    servicer = AuthServicer(AuthCore(settings))
    return Registration(
        add=lambda server: auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
    )


def run() -> None:
    """Process entry point."""
    main("auth", AuthSettings, build)
