"""Wires the autoscaler: settings, policy store and servicer."""

from __future__ import annotations

from meshserve.v1 import autoscaler_pb2, autoscaler_pb2_grpc
from services.autoscaler.policies import PolicyStore
from services.autoscaler.servicer import AutoscalerServicer
from services.autoscaler.settings import AutoscalerSettings
from services.common.server import Registration, main

SERVICE_NAME = autoscaler_pb2.DESCRIPTOR.services_by_name["AutoscalerService"].full_name


def build(settings: AutoscalerSettings) -> Registration:
    """The autoscaler's registration."""
    servicer = AutoscalerServicer(settings, PolicyStore())
    return Registration(
        add=lambda server: autoscaler_pb2_grpc.add_AutoscalerServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
    )


def run() -> None:
    """Process entry point."""
    main("autoscaler", AutoscalerSettings, build)
